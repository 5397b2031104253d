// Assertions of the container test (test/container/run.sh), run with plain `node` on the host (after npm ci).
//
//   node check.mjs answer EXPECT [METHOD_ARN] < body
//       EXPECT    allow | deny (what the policy gives METHOD_ARN, judged by test/support/api-gateway.ts, the
//                 tests' independent IAM simulator) | simple-allow | unauthorized
//   node check.mjs logs LOGFILE SECRETS DECISION...
//       LOGFILE   `docker compose logs --no-color --no-log-prefix authorizer`
//       SECRETS   a file with every raw token sent, one a line: none may appear in the logs
//       DECISION  the decisions expected, in order (Allow, Deny, Expired, Invalid, …)
//
// Prints one line saying what held; exits 1 with the reason when something did not.
import { readFileSync } from "node:fs";
import { loadTs } from "../../scripts/run-ts.mjs";

function fail(message) {
  process.stderr.write(`CHECK FAILED: ${message}\n`);
  process.exit(1);
}

async function checkAnswer(expect, methodArn) {
  const text = readFileSync(0, "utf8");
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    fail(`the answer is not JSON: ${text.slice(0, 200)}`);
  }
  switch (expect) {
    case "allow":
    case "deny": {
      const want = expect === "allow" ? "Allow" : "Deny";
      if (typeof answer.principalId !== "string" || answer.principalId === "") fail(`no principalId in ${text.slice(0, 200)}`);
      if (answer.policyDocument?.Version !== "2012-10-17") fail("the policy has no Version 2012-10-17");
      if (!methodArn) fail("no method ARN to judge the policy against");
      // API Gateway's verdict from the tests' one independent judge (an IAM policy simulator).
      const { judgeAnswer } = await loadTs("test/support/api-gateway.ts", "container-check");
      const effect = judgeAnswer(answer, methodArn);
      if (effect !== want) fail(`expected ${want} for ${methodArn}, the policy gives ${effect}`);
      process.stdout.write(`ok: ${effect} for ${methodArn}\n`);
      return;
    }
    case "simple-allow":
      if (answer.isAuthorized !== true) fail(`expected {"isAuthorized":true,…}, got ${text.slice(0, 200)}`);
      break;
    case "unauthorized":
      if (answer.errorMessage !== "Unauthorized" || typeof answer.errorType !== "string") {
        fail(`expected {"errorType":…,"errorMessage":"Unauthorized"}, got ${text.slice(0, 200)}`);
      }
      break;
    default:
      fail(`unknown expectation ${expect}`);
  }
  process.stdout.write(`ok: ${expect}\n`);
}

/**
 * The JSON documents in a log: one per line after an optional prefix, or pretty-printed over several
 * lines. Lines without JSON (the emulator's START / END / REPORT) are skipped.
 */
function jsonDocuments(text) {
  const docs = [];
  let buffer = [];
  let depth = 0;
  for (const line of text.split("\n")) {
    // The runtime interface client prefixes each log with "time\trequestId\tLEVEL\t" and turns the
    // newlines of a pretty-printed document into \r, so a document starts at a line's first "{".
    let trimmed = line.trim();
    if (depth === 0) {
      const start = trimmed.indexOf("{");
      if (start < 0) continue;
      trimmed = trimmed.slice(start);
    }
    buffer.push(trimmed);
    // Braces inside strings would fool this count; the log's string values are checked to parse below.
    for (const ch of trimmed.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
      if (ch === "{") depth++;
      if (ch === "}") depth--;
    }
    if (depth <= 0) {
      try {
        docs.push(JSON.parse(buffer.join("\n")));
      } catch {
        // not a JSON document after all
      }
      buffer = [];
      depth = 0;
    }
  }
  return docs;
}

function checkLogs(logFile, secretsFile, expected) {
  // Compose writes terminal control sequences (erase line) even with --no-color.
  // eslint-disable-next-line no-control-regex
  const text = readFileSync(logFile, "utf8").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
  const secrets = readFileSync(secretsFile, "utf8").split("\n").map((s) => s.trim()).filter((s) => s !== "");
  for (const secret of secrets) {
    // A token, or its signature alone, must never be logged.
    const signature = secret.split(".")[2] ?? "";
    if (text.includes(secret)) fail(`a raw token appears in the logs (${secret.slice(0, 12)}…)`);
    if (signature.length > 16 && text.includes(signature)) fail(`a token's signature appears in the logs (${signature.slice(0, 12)}…)`);
  }
  const docs = jsonDocuments(text);
  const decisions = docs.filter((d) => d.message === "decision").map((d) => d.decision);
  if (JSON.stringify(decisions) !== JSON.stringify(expected)) {
    fail(`decision lines: expected ${expected.length} (${expected.join(", ")}), found ${decisions.length} (${decisions.join(", ")})`);
  }
  const names = new Set(expected);
  const emf = docs
    .filter((d) => Array.isArray(d._aws?.CloudWatchMetrics))
    .flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)))
    .filter((name) => name !== "ColdStart");
  if (JSON.stringify(emf) !== JSON.stringify(expected)) {
    fail(`EMF decision records: expected ${expected.join(", ")}, found ${emf.join(", ") || "none"}`);
  }
  const starts = (text.match(/^START RequestId: /gm) ?? []).length;
  if (starts !== expected.length) fail(`expected ${expected.length} START lines from the emulator, found ${starts}`);
  process.stdout.write(
    `ok: ${decisions.length} decision lines (${decisions.join(", ")}), ${emf.length} EMF decision records of the same names` +
      ` (${[...names].join(", ")}), ${starts} invocations, none of the ${secrets.length} tokens in the logs\n`,
  );
}

const [command, ...args] = process.argv.slice(2);
if (command === "answer") await checkAnswer(args[0], args[1]);
else if (command === "logs") checkLogs(args[0], args[1], args.slice(2));
else fail("usage: check.mjs answer EXPECT [METHOD_ARN] | logs LOGFILE SECRETS DECISION...");
