/**
 * Secrets never leak, checked on the artifact that ships: dist/index.js in its own process, as in
 * Lambda (AWS_EXECUTION_ENV and LAMBDA_TASK_ROOT set, a fresh _X_AMZN_TRACE_ID per invocation), so
 * the Powertools Tracer / aws-xray-sdk really emits trace documents — to a UDP "daemon" on
 * 127.0.0.1 that keeps them. Debug logging and POWERTOOLS_LOGGER_LOG_EVENT are switched on, the
 * most talkative settings an operator could choose. Every stdout/stderr line and every trace
 * document is then searched for the raw tokens, their signatures and the private keys.
 * (The in-process suites run the same search over everything they capture.)
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EXAMPLE_RULES, judge, SecretRegistry } from "./support/harness";
import { startLambda, startTraceSink, type LambdaProcess, type LambdaResult, type TraceSink } from "../support/lambda-process";
import { b64url, cognitoAccessClaims, generateKey, nowSeconds, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "../support/keys";
import { eventFor, type EventName } from "../support/events";
import { startJwksServer, type JwksServer } from "../support/jwks-server";
import { INTERNAL_ERROR, UNAUTHORIZED } from "../../src/handler";

const secrets = new SecretRegistry();
let jwks: JwksServer;
let sink: TraceSink;
let lambda: LambdaProcess;
let trusted: TestKey;
let attacker: TestKey;
const results: { name: string; event: unknown; out: LambdaResult }[] = [];

const baseEnv = () => ({
  USER_POOL_ID: TEST_POOL_ID,
  CLIENT_ID: TEST_CLIENT_ID,
  JWKS_URI: jwks.jwksUri,
  JWKS_FETCH_TIMEOUT_MS: "300",
  JWKS_PENALTY_SECONDS: "1",
  ACCESS_RULES_FILE: EXAMPLE_RULES,
  NODE_EXTRA_CA_CERTS: jwks.tls.caFile,
  AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
  LAMBDA_TASK_ROOT: "/var/task-not-used",
  AWS_LAMBDA_FUNCTION_NAME: "jwt-authorizer",
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
  AWS_XRAY_DAEMON_ADDRESS: sink.address,
  AWS_XRAY_CONTEXT_MISSING: "IGNORE_ERROR",
  POWERTOOLS_LOG_LEVEL: "DEBUG",
  POWERTOOLS_LOGGER_LOG_EVENT: "true",
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: "true",
  POWERTOOLS_TRACER_CAPTURE_ERROR: "true",
});

beforeAll(async () => {
  trusted = secrets.key(generateKey("trusted-kid"));
  attacker = secrets.key(generateKey("attacker-kid"));
  jwks = await startJwksServer([trusted.jwk]);
  sink = await startTraceSink();
  lambda = await startLambda(baseEnv());

  const tok = (claims: Record<string, unknown> = {}, key = trusted, header: Record<string, unknown> = {}) =>
    secrets.token(signJwt(cognitoAccessClaims(claims), key, header));
  const cases: [string, EventName, string, string?][] = [
    ["allow", "token", tok()],
    ["allow-request", "request", tok()],
    ["allow-http", "http-api", tok()],
    ["deny", "token", tok(), "POST /pets"],
    ["deny-http", "http-api", tok(), "DELETE /pets/1"],
    ["expired", "request", tok({ exp: nowSeconds() - 10 })],
    ["forged", "token", tok({}, attacker, { kid: trusted.kid })],
    ["wrong-client", "http-api", tok({ client_id: "other" })],
    ["unknown-kid", "token", tok({}, attacker)],
    ["alg-none", "token", secrets.token(`${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(cognitoAccessClaims()))}.${b64url("x".repeat(40))}`)],
    ["huge", "token", tok({ pad: "x".repeat(20_000) })],
    ["not-a-jwt", "request", secrets.token("notajwt_but_a_long_opaque_secret_value_0123456789")],
  ];
  for (const [name, kind, token, route] of cases) {
    const event = eventFor(kind, token, route);
    results.push({ name, event, out: await lambda.invoke(event) });
  }
  // Our own failure with a token in flight: key set down and an unknown kid (after the 1 s penalty
  // that "unknown-kid" started: within it, an unknown kid is a 401 without any fetch).
  await jwks.close();
  await sleep(1100);
  const outageEvent = eventFor("request", tok({}, generateKey("rotated-kid")));
  results.push({ name: "outage", event: outageEvent, out: await lambda.invoke(outageEvent) });
  const malformed = { type: "REQUEST", headers: { Authorization: `Bearer ${tok()}` } };
  results.push({ name: "malformed", event: malformed, out: await lambda.invoke(malformed) });
  // stdout (a pipe) and the UDP datagrams can trail the IPC answers: wait until all have arrived.
  await waitFor(
    () =>
      lambda.output().filter((l) => l.includes('"message":"decision"')).length >= results.length &&
      sink.documents().filter((d) => d.name === "## handler").length >= results.length,
  );
  if (process.env.SECURITY_DUMP) {
    process.stderr.write(`${lambda.output().join("\n")}\n---\n${sink.datagrams.join("\n")}\n`);
  }
}, 30_000);

afterAll(async () => {
  await lambda?.close();
  await sink?.close();
  await jwks?.close().catch(() => undefined);
});

/** Polls `done` every 25 ms for up to `ms` (then lets the assertions report what is missing). */
async function waitFor(done: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await sleep(25);
}

const byName = (name: string) => results.find((r) => r.name === name)!.out;

test("the answers are the expected ones (so the captured output covers Allow, Deny, 401 and 500)", () => {
  const verdicts = Object.fromEntries(
    results.map(({ name, event, out }) => [
      name,
      out.error ? (out.error.message === UNAUTHORIZED ? "401" : out.error.message === INTERNAL_ERROR ? "500" : out.error.message) : judge(event, out.result),
    ]),
  );
  expect(verdicts).toEqual({
    allow: "Allow",
    "allow-request": "Allow",
    "allow-http": "Allow",
    deny: "Deny",
    "deny-http": "Deny",
    expired: "401",
    forged: "401",
    "wrong-client": "401",
    "unknown-kid": "401",
    "alg-none": "401",
    huge: "401",
    "not-a-jwt": "401",
    outage: "500",
    malformed: "500",
  });
});

test("real trace documents were captured over UDP, annotated with the decision", () => {
  const docs = sink.documents();
  expect(docs.length).toBeGreaterThanOrEqual(results.length);
  const decisions = docs.map((d) => (d.annotations as Record<string, unknown> | undefined)?.decision).filter(Boolean);
  expect(decisions).toEqual(expect.arrayContaining(["Allow", "Deny", "Invalid", "Expired", "Error"]));
});

test("no raw token, signature or private key in any log line (debug level, event logging on)", () => {
  const lines = lambda.output();
  expect(lines.filter((l) => l.includes('"message":"decision"'))).toHaveLength(results.length);
  expect(secrets.size).toBeGreaterThan(20);
  expect(secrets.foundIn(lines.join("\n"))).toEqual([]);
});

test("no raw token, signature or private key in any trace document", () => {
  expect(sink.datagrams.length).toBeGreaterThan(0);
  expect(secrets.foundIn(sink.datagrams.join("\n"))).toEqual([]);
});

test("the answers never carry the failure reason: errors are exactly the two constants; a Deny says nothing of why", () => {
  for (const { name, out } of results) {
    if (out.error) {
      expect({ name, message: out.error.message, keys: out.error.keys }).toEqual({
        name,
        message: expect.stringMatching(/^(Unauthorized|Authorizer error)$/),
        keys: [],
      });
    }
  }
  for (const name of ["deny", "deny-http"]) {
    // A REST Deny carries the caller's own context (a later permitted route may be served from the
    // cached answer); neither says why it was denied.
    const { context, ...rest } = byName(name).result as { context?: Record<string, unknown> };
    expect(JSON.stringify(rest)).not.toMatch(/context|reason|error|scope|pets\/write/i);
    expect(JSON.stringify(context ?? {})).not.toMatch(/Error|reason|pets\/write/);
    expect(secrets.foundIn(JSON.stringify(context ?? {}))).toEqual([]);
  }
  for (const name of ["allow", "allow-request", "allow-http"]) {
    const context = (byName(name).result as { context: Record<string, unknown> }).context;
    expect(Object.keys(context)).not.toEqual(expect.arrayContaining(["reason"]));
    expect(JSON.stringify(context)).not.toMatch(/Error|reason/);
    expect(secrets.foundIn(JSON.stringify(context))).toEqual([]);
  }
});

describe("a rules file with a syntax error is rejected at init, not at the first request (shipped bundle)", () => {
  let broken: LambdaProcess;
  afterAll(() => broken?.close());

  test("the init log names ACCESS_RULES_FILE before any invocation; the first request is a 500", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "authz-rules-")), "rules.json");
    writeFileSync(path, '{ "rules": [ { "route": "GET /pets" "scopes": ["pets/read"] } ] }');
    broken = await startLambda({
      USER_POOL_ID: TEST_POOL_ID,
      CLIENT_ID: TEST_CLIENT_ID,
      ACCESS_RULES_FILE: path,
      AWS_LAMBDA_FUNCTION_NAME: "jwt-authorizer",
    });
    await waitFor(() => broken.output().some((l) => l.includes('"level":"ERROR"')));
    const initLines = broken.output();
    const initError = initLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.level === "ERROR");
    expect(initError).toMatchObject({ reason: "ConfigError", error: expect.stringContaining("ACCESS_RULES_FILE") });

    const out = await broken.invoke(eventFor("token", secrets.token(signJwt(cognitoAccessClaims(), trusted))));
    expect(out.error?.message).toBe(INTERNAL_ERROR);
    expect(secrets.foundIn(broken.output().join("\n"))).toEqual([]);
  });
});
