import { join } from "node:path";
import { DECISIONS } from "../src/errors";
import { INTERNAL_ERROR, UNAUTHORIZED } from "../src/handler";
import type { PolicyResponse } from "../src/response";
import { emittedMetrics } from "./helpers/capture";
import { startLambda, type LambdaProcess } from "./helpers/lambda-process";
import { eventFor, STAGE_PREFIX } from "./helpers/events";
import { startJwksServer, type JwksServer } from "./helpers/jwks-server";
import { cognitoAccessClaims, generateKey, nowSeconds, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "./helpers/keys";

/** The artifact that ships: dist/index.js in its own Node process, trusting the test CA the way a deployment would. */
let server: JwksServer;
let key: TestKey;
let dist: LambdaProcess;

beforeAll(async () => {
  key = generateKey("dist-key");
  server = await startJwksServer([key.jwk]);
  dist = await startLambda({
    AWS_LAMBDA_FUNCTION_NAME: "jwt-authorizer-dist",
    USER_POOL_ID: TEST_POOL_ID,
    CLIENT_ID: TEST_CLIENT_ID,
    JWKS_URI: server.jwksUri,
    ACCESS_RULES_FILE: join(__dirname, "..", "access-rules.example.json"),
    NODE_EXTRA_CA_CERTS: server.tls.caFile,
    POWERTOOLS_SERVICE_NAME: "dist-under-test",
    POWERTOOLS_METRICS_NAMESPACE: "DistTest",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
  });
});
afterAll(async () => {
  await dist?.close();
  await server?.close();
});

const token = (claims: Record<string, unknown> = {}) => signJwt(cognitoAccessClaims(claims), key);

it("answers Allow, Deny, 401 and 500 like the in-process handler", async () => {
  const allow = await dist.invoke(eventFor("request", token(), "GET /pets/7"));
  expect(allow.error).toBeUndefined();
  expect((allow.result as PolicyResponse).policyDocument.Statement[0]).toEqual({
    Action: "execute-api:Invoke",
    Effect: "Allow",
    Resource: [`${STAGE_PREFIX}/GET/pets`, `${STAGE_PREFIX}/GET/pets/7`],
  });

  const deny = await dist.invoke(eventFor("token", token(), "POST /pets"));
  expect((deny.result as PolicyResponse).policyDocument.Statement.map((s) => s.Effect)).toEqual(["Allow", "Deny"]);

  const expired = await dist.invoke(eventFor("http-api", token({ exp: nowSeconds() - 1 })));
  expect(expired.error).toMatchObject({ message: UNAUTHORIZED, type: "Error" });

  const malformed = await dist.invoke({ type: "REQUEST", headers: {} });
  expect(malformed.error).toMatchObject({ message: INTERNAL_ERROR, type: "Error" });
});

/** The child's stdout/stderr can arrive after its IPC answer: wait (bounded) for n decision lines. */
async function outputWithDecisions(n: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = dist.output();
    if (lines.filter((l) => l.includes('"message":"decision"')).length >= n || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it("fetched the key set once, at init, and writes EMF and decision logs to stdout", async () => {
  expect(server.requests).toBe(1);
  const lines = await outputWithDecisions(4);
  const records = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const metrics = emittedMetrics(records);
  expect(Object.fromEntries(DECISIONS.map((d) => [d, metrics[d]?.value ?? 0]))).toEqual({ Allow: 1, Deny: 1, Expired: 1, Invalid: 0, Error: 1 });
  expect(metrics.ColdStart?.value).toBe(1);
  const decisions = records.filter((r) => r.message === "decision");
  expect(decisions.map((d) => d.reason)).toEqual([undefined, undefined, "JwtExpiredError", "MalformedEventError"]);
  expect(decisions[0]).toMatchObject({ service: "dist-under-test", function_name: "jwt-authorizer-dist", cold_start: true });
});

describe("the shipped bundle: strict token checks and key-set refresh (JWKS_MAX_AGE_SECONDS=2)", () => {
  let rotating: JwksServer;
  let strict: LambdaProcess;
  let keyA: TestKey;
  let keyB: TestKey;

  beforeAll(async () => {
    keyA = generateKey("dist-a");
    keyB = generateKey("dist-b");
    rotating = await startJwksServer([keyA.jwk, keyB.jwk]);
    strict = await startLambda({
      USER_POOL_ID: TEST_POOL_ID,
      CLIENT_ID: TEST_CLIENT_ID,
      JWKS_URI: rotating.jwksUri,
      JWKS_MAX_AGE_SECONDS: "2",
      // The test helpers sign with typ JWT; RFC 9068 access tokens carry at+jwt.
      JWT_TYP: "at+jwt,JWT",
      NODE_EXTRA_CA_CERTS: rotating.tls.caFile,
      POWERTOOLS_METRICS_NAMESPACE: "DistStrictTest",
    });
  });
  afterAll(async () => {
    await strict?.close();
    await rotating?.close();
  });

  const signed = (claims: Record<string, unknown> = {}, signer: TestKey = keyA, header: Record<string, unknown> = {}) =>
    signJwt(cognitoAccessClaims(claims), signer, header);
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const unusedBitsSet = (jwt: string) => jwt.slice(0, -1) + ALPHABET[ALPHABET.indexOf(jwt[jwt.length - 1]) | 0b1111];

  it.each<[string, "Allow" | "401", () => string]>([
    ["crit naming an unknown extension", "401", () => signed({}, keyA, { crit: ["x-unknown"], "x-unknown": 1 })],
    ["crit b64 with b64 false", "401", () => signed({}, keyA, { crit: ["b64"], b64: false })],
    ["a signature with non-zero unused bits", "401", () => unusedBitsSet(signed())],
    ["iat 5 s in the future", "Allow", () => signed({ iat: nowSeconds() + 5 })],
    ["iat an hour in the future", "401", () => signed({ iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 })],
    ["typ at+jwt (JWT_TYP=at+jwt,JWT)", "Allow", () => signed({}, keyA, { typ: "at+jwt" })],
    ["typ logout+jwt (JWT_TYP=at+jwt,JWT)", "401", () => signed({}, keyA, { typ: "logout+jwt" })],
    ["no typ (JWT_TYP=at+jwt,JWT)", "401", () => signed({}, keyA, { typ: undefined })],
  ])("%s → %s", async (_case, expected, make) => {
    const answer = await strict.invoke(eventFor("token", make()));
    if (expected === "Allow") expect((answer.result as PolicyResponse).policyDocument.Statement[0].Effect).toBe("Allow");
    else expect(answer.error).toMatchObject({ message: UNAUTHORIZED });
  });

  it("refuses a kid the IdP removed once the key set is older than 2 s, with one refetch", async () => {
    expect((await strict.invoke(eventFor("token", signed()))).error).toBeUndefined();
    rotating.keys = [keyB.jwk];
    const before = rotating.requests;
    const removedAt = Date.now();
    let answer = await strict.invoke(eventFor("token", signed()));
    // Real time here (the bundle has no fake clock): poll until the 2 s max-age has passed.
    while (!answer.error && Date.now() - removedAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await strict.invoke(eventFor("token", signed()));
    }
    expect(answer.error).toMatchObject({ message: UNAUTHORIZED });
    expect(rotating.requests - before).toBe(1);
    expect((await strict.invoke(eventFor("token", signed({}, keyB)))).error).toBeUndefined();
  });

  it("keeps the keys when a refresh fails, and logs and counts the failure", async () => {
    rotating.mode = { kind: "status", status: 503 };
    const before = rotating.requests;
    const failedAt = Date.now();
    // Real time again: the next refresh is due 2 s after the last fetch.
    while (rotating.requests === before && Date.now() - failedAt < 5000) {
      const answer = await strict.invoke(eventFor("token", signed({}, keyB)));
      expect(answer.error).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rotating.requests - before).toBe(1);
    const deadline = Date.now() + 5000;
    let lines = strict.output();
    while (!lines.some((l) => l.includes("JWKS refresh failed")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lines = strict.output();
    }
    const records = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.message === "JWKS refresh failed; keeping the cached keys")).toEqual([
      expect.objectContaining({ level: "WARN", reason: "NonRetryableFetchError", jwksUri: rotating.jwksUri }),
    ]);
    expect(emittedMetrics(records).JwksRefreshFailed?.value).toBe(1);
  });
});
