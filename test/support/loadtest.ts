/**
 * Bounded load test of the built authorizer (dist/index.js) through the local stack
 * (src/local/stack.ts): 127.0.0.1 only, fixed duration, stops by itself.
 *
 * Phase "invoke":  POSTs authorizer events (TOKEN / REQUEST / HTTP API 2.0) straight to the
 *                  RIE-compatible invoke URL and judges each answer the way API Gateway would.
 * Phase "gateway": real HTTP requests to the API-Gateway-like proxy with its cache OFF (TTL 0), so
 *                  every request invokes the authorizer; judged by the status code.
 *
 * The traffic mixes valid, expired, forged (payload swapped under a real signature; signed by a
 * foreign key under the issuer's kid) and under-privileged tokens. Every answer is checked: a
 * "wrong decision" is any answer other than the expected one. Reported: requests, wrong
 * decisions per class, 5xx on the valid share, latency p50/p99, and the authorizer process's RSS
 * before and after.
 */
import autocannon from "autocannon";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack, type LocalStack } from "../../src/local/stack";
import { judgeAnswer } from "./api-gateway";

export type TokenClass = "valid" | "expired" | "forged-payload" | "forged-key" | "under-privileged";
type Expected = "Allow" | "Deny" | "Unauthorized";

const EXPECTED: Record<TokenClass, Expected> = {
  valid: "Allow",
  expired: "Unauthorized",
  "forged-payload": "Unauthorized",
  "forged-key": "Unauthorized",
  "under-privileged": "Deny",
};
const STATUS: Record<Expected, number> = { Allow: 200, Deny: 403, Unauthorized: 401 };

export interface LoadOptions {
  readonly durationSeconds: number;
  readonly connections: number;
  readonly phases?: readonly ("invoke" | "gateway")[];
  readonly log?: (line: string) => void;
}

export interface ClassTally {
  sent: number;
  wrong: number;
  fiveXx: number;
}

export interface PhaseReport {
  readonly phase: "invoke" | "gateway";
  readonly target: string;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly perClass: Record<TokenClass, ClassTally>;
  readonly wrongDecisions: number;
  readonly validFiveXx: number;
  /** A few examples of wrong answers, for diagnosis (never tokens). */
  readonly wrongSamples: string[];
}

export interface LoadReport {
  readonly phases: PhaseReport[];
  readonly rssMb: { label: string; authorizer: number | undefined; loadtest: number }[];
  readonly authorizerInvocations: number;
  readonly ok: boolean;
  readonly problems: string[];
}

const ROUTE = { allowed: { method: "GET", path: "/pets" }, denied: { method: "POST", path: "/pets" } } as const;
const ARN_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:localapi/local";
const arnFor = (method: string, path: string) => `${ARN_PREFIX}/${method}${path}`;

/** Mints one token per class from the local issuer; forges the two forged ones. */
async function tokensFor(stack: LocalStack): Promise<Record<TokenClass, string>> {
  const valid = await stack.mintToken({ scopes: ["pets/read"] });
  const expired = await stack.mintToken({ scopes: ["pets/read"], expired: true });
  const underPrivileged = await stack.mintToken({ scopes: ["pets/read"] });
  const [head, body, signature] = valid.split(".");
  const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
  const raised = Buffer.from(JSON.stringify({ ...claims, scope: "pets/read pets/write", "cognito:groups": ["admin"] })).toString("base64url");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const input = `${head}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const foreign = `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
  return { valid, expired, "forged-payload": `${head}.${raised}.${signature}`, "forged-key": foreign, "under-privileged": underPrivileged };
}

/** The route each class asks for: under-privileged tokens ask for a route they may not use. */
const routeOf = (c: TokenClass) => (c === "under-privileged" ? ROUTE.denied : ROUTE.allowed);

function eventFor(kind: "TOKEN" | "REQUEST" | "HTTP", token: string, method: string, path: string): Record<string, unknown> {
  const arn = arnFor(method, path);
  if (kind === "TOKEN") return { type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: arn };
  if (kind === "REQUEST") {
    return {
      type: "REQUEST",
      methodArn: arn,
      resource: path,
      path,
      httpMethod: method,
      headers: { Authorization: `Bearer ${token}`, Host: "localapi.execute-api.local" },
      multiValueHeaders: { Authorization: [`Bearer ${token}`], Host: ["localapi.execute-api.local"] },
      requestContext: { requestId: "load", stage: "local", apiId: "localapi" },
    };
  }
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: arn.replace("/local/", "/$default/"),
    routeKey: `${method} ${path}`,
    identitySource: [`Bearer ${token}`],
    headers: { authorization: `Bearer ${token}` },
    requestContext: { requestId: "load", http: { method, path } },
  };
}

/** What API Gateway would make of an invoke answer (the RIE returns thrown errors as a 200 error document). */
export function judgeInvokeAnswer(status: number, body: string, arn: string): Expected | "Error" | "Other" {
  if (status !== 200) return "Other";
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return "Other";
  }
  if ("errorMessage" in doc) return doc.errorMessage === "Unauthorized" ? "Unauthorized" : "Error";
  // API Gateway's verdict from the independent IAM simulator the tests use.
  const verdict = judgeAnswer(doc, arn);
  return verdict === "Invalid" ? "Other" : verdict;
}

function emptyTally(): Record<TokenClass, ClassTally> {
  return Object.fromEntries((Object.keys(EXPECTED) as TokenClass[]).map((c) => [c, { sent: 0, wrong: 0, fiveXx: 0 }])) as Record<
    TokenClass,
    ClassTally
  >;
}

/** RSS (MB) of the authorizer's process: the local runtime child of this process that loaded dist/index.js. */
export function authorizerRssMb(): number | undefined {
  try {
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("lambda-runtime")) continue;
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : undefined;
    }
  } catch {
    // not Linux
  }
  return undefined;
}

const selfRssMb = () => Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;

async function runPhase(
  phase: "invoke" | "gateway",
  stack: LocalStack,
  tokens: Record<TokenClass, string>,
  options: LoadOptions,
): Promise<PhaseReport> {
  const perClass = emptyTally();
  const wrongSamples: string[] = [];
  const classes = Object.keys(EXPECTED) as TokenClass[];
  // The mix: 3 valid in every 7 requests, then one of each other class (every attack present throughout).
  const mix: TokenClass[] = ["valid", ...classes, "valid"];
  const requests: autocannon.Request[] = [];
  const note = (c: TokenClass, ok: boolean, fiveXx: boolean, what: string) => {
    perClass[c].sent += 1;
    if (!ok) {
      perClass[c].wrong += 1;
      if (wrongSamples.length < 5) wrongSamples.push(`${phase} ${c}: ${what}`);
    }
    if (fiveXx) perClass[c].fiveXx += 1;
  };

  if (phase === "invoke") {
    for (const kind of ["TOKEN", "REQUEST", "HTTP"] as const) {
      for (const c of mix) {
        const { method, path } = routeOf(c);
        const event = eventFor(kind, tokens[c], method, path);
        const arn = String(event.methodArn ?? event.routeArn);
        requests.push({
          method: "POST",
          path: new URL(stack.invokeUrl).pathname,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(event),
          onResponse: (status, body) => {
            const verdict = judgeInvokeAnswer(status, body, arn);
            note(c, verdict === EXPECTED[c], status >= 500 || verdict === "Error", `${kind} → ${verdict} (HTTP ${status})`);
          },
        });
      }
    }
  } else {
    for (const c of mix) {
      const { method, path } = routeOf(c);
      requests.push({
        method,
        path,
        headers: { authorization: `Bearer ${tokens[c]}` },
        onResponse: (status) => note(c, status === STATUS[EXPECTED[c]], status >= 500, `${method} ${path} → HTTP ${status}`),
      });
    }
  }

  const target = phase === "invoke" ? stack.invokeUrl : stack.gatewayUrl;
  const url = new URL(target);
  const result = await autocannon({
    url: `${url.protocol}//${url.host}`,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests,
  });
  const wrongDecisions = classes.reduce((n, c) => n + perClass[c].wrong, 0);
  return {
    phase,
    target,
    durationSeconds: result.duration,
    connections: options.connections,
    requests: classes.reduce((n, c) => n + perClass[c].sent, 0),
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    errors: result.errors,
    timeouts: result.timeouts,
    perClass,
    wrongDecisions,
    validFiveXx: perClass.valid.fiveXx,
    wrongSamples,
  };
}

export async function runLoadTest(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const stateDir = mkdtempSync(join(tmpdir(), "authz-loadtest-"));
  const stack = await startLocalStack({ host: "127.0.0.1", cacheTtlSeconds: 0, stateDir });
  const rssMb: LoadReport["rssMb"] = [];
  const phases: PhaseReport[] = [];
  try {
    const tokens = await tokensFor(stack);
    // Warm-up: fetch the keys, JIT the hot path (not measured).
    await runPhase("invoke", stack, tokens, { ...options, durationSeconds: 1, connections: Math.min(options.connections, 10) });
    rssMb.push({ label: "before (after 1 s warm-up)", authorizer: authorizerRssMb(), loadtest: selfRssMb() });
    for (const phase of options.phases ?? ["invoke", "gateway"]) {
      log(`${phase}: ${options.connections} connections for ${options.durationSeconds} s → ${phase === "invoke" ? stack.invokeUrl : stack.gatewayUrl}`);
      const report = await runPhase(phase, stack, tokens, options);
      phases.push(report);
      rssMb.push({ label: `after ${phase}`, authorizer: authorizerRssMb(), loadtest: selfRssMb() });
    }
    const problems: string[] = [];
    for (const p of phases) {
      if (p.wrongDecisions > 0) problems.push(`${p.phase}: ${p.wrongDecisions} wrong decisions (${p.wrongSamples.join("; ")})`);
      if (p.validFiveXx > 0) problems.push(`${p.phase}: ${p.validFiveXx} 5xx answers to valid tokens`);
      if (p.requests === 0) problems.push(`${p.phase}: no requests completed`);
      if (p.errors > 0) problems.push(`${p.phase}: ${p.errors} connection errors/timeouts`);
    }
    const first = rssMb[0]?.authorizer;
    const last = rssMb[rssMb.length - 1]?.authorizer;
    if (first !== undefined && last !== undefined && last - first > 64) problems.push(`authorizer RSS grew by ${(last - first).toFixed(1)} MB`);
    return { phases, rssMb, authorizerInvocations: stack.authorizerInvocations(), ok: problems.length === 0, problems };
  } finally {
    await stack.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export function formatReport(report: LoadReport): string {
  const lines: string[] = [];
  for (const p of report.phases) {
    lines.push(
      `${p.phase.padEnd(7)} ${p.requests} requests in ${p.durationSeconds.toFixed(1)} s (${p.requestsPerSecond}/s) at ${p.connections} connections; ` +
        `latency p50 ${p.latencyMs.p50} ms, p90 ${p.latencyMs.p90} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms; ` +
        `wrong decisions ${p.wrongDecisions}; 5xx on valid ${p.validFiveXx}; connection errors ${p.errors}`,
    );
    lines.push(
      `        per class: ${Object.entries(p.perClass)
        .map(([c, t]) => `${c} ${t.sent} sent/${t.wrong} wrong/${t.fiveXx} 5xx`)
        .join(", ")}`,
    );
  }
  lines.push(`RSS (MB): ${report.rssMb.map((r) => `${r.label}: authorizer ${r.authorizer ?? "n/a"}, load generator ${r.loadtest}`).join("; ")}`);
  lines.push(`authorizer invocations: ${report.authorizerInvocations}`);
  lines.push(report.ok ? "RESULT: PASS (zero wrong decisions, zero 5xx on valid tokens)" : `RESULT: FAIL — ${report.problems.join("; ")}`);
  return lines.join("\n");
}

/** `npm run loadtest [-- --duration 10 --connections 50]` */
export async function main(argv: readonly string[]): Promise<number> {
  const arg = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  const durationSeconds = Math.min(arg("duration", 10), 120);
  const connections = Math.min(arg("connections", 50), 500);
  const report = await runLoadTest({ durationSeconds, connections, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`${formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}
