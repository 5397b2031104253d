/**
 * An oversized key set is bounded while it downloads, not after: the shipped bundle in its own
 * process (as in Lambda) fetches a 40 MB key-set body at init, and its peak resident set may grow by
 * at most 16 MB. The answer is our failure (500, Error metric, never a cacheable Deny), and the body
 * is never cached: once the endpoint serves a real key set, the same container allows.
 */
import { join } from "node:path";
import { INTERNAL_ERROR } from "../../src/handler";
import { eventFor } from "../helpers/events";
import { startJwksServer, type JwksServer } from "../helpers/jwks-server";
import { startLambda, type LambdaProcess } from "../helpers/lambda-process";
import { cognitoAccessClaims, generateKey, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "../helpers/keys";

const BODY_BYTES = 40 * 1024 * 1024;
const MAX_GROWTH_BYTES = 16 * 1024 * 1024;
const MB = 1024 * 1024;

let server: JwksServer;
let key: TestKey;
let lambda: LambdaProcess;
let release: () => void;

beforeAll(async () => {
  key = generateKey("memory-kid");
  server = await startJwksServer([key.jwk]);
  // A syntactically plausible key set that carries the trusted key, padded to 40 MB.
  const body = Buffer.from(JSON.stringify({ keys: [key.jwk], padding: "p".repeat(BODY_BYTES) }));
  server.mode = { kind: "gate", open: new Promise<void>((resolve) => (release = resolve)), body };
  lambda = await startLambda({
    USER_POOL_ID: TEST_POOL_ID,
    CLIENT_ID: TEST_CLIENT_ID,
    JWKS_URI: server.jwksUri,
    // Long enough for the whole body to arrive, were it read to the end.
    JWKS_FETCH_TIMEOUT_MS: "20000",
    ACCESS_RULES_FILE: join(__dirname, "..", "..", "access-rules.example.json"),
    NODE_EXTRA_CA_CERTS: server.tls.caFile,
    POWERTOOLS_METRICS_NAMESPACE: "MemoryTest",
  });
});
afterAll(async () => {
  await lambda?.close();
  await server?.close();
});

test("a 40 MB key-set body raises the peak RSS by at most 16 MB, is a 500, and is never cached", async () => {
  const before = await lambda.memory();
  release();
  const first = await lambda.invoke(eventFor("token", signJwt(cognitoAccessClaims(), key)));
  const after = await lambda.memory();
  // The highest resident set sampled (every 2 ms) while the body arrived, against the one just before.
  const growth = after.sampledMax - before.rss;
  process.stderr.write(
    `\n[security] 40 MB key-set body: RSS ${(before.rss / MB).toFixed(1)} MB before, at most ${(after.sampledMax / MB).toFixed(1)} MB while it arrived (+${(growth / MB).toFixed(1)} MB); process peak ${(before.maxRss / MB).toFixed(1)} → ${(after.maxRss / MB).toFixed(1)} MB\n`,
  );
  expect(after.maxRss - before.maxRss).toBeLessThanOrEqual(MAX_GROWTH_BYTES);

  expect(first.error).toMatchObject({ message: INTERNAL_ERROR });
  expect(growth).toBeLessThanOrEqual(MAX_GROWTH_BYTES);

  // Not cached: the key set is fetched again (after the retry window), and a real one is used.
  server.mode = { kind: "ok" };
  const requests = server.requests;
  let answer = first;
  for (let i = 0; i < 30 && answer.error; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await lambda.invoke(eventFor("token", signJwt(cognitoAccessClaims(), key)));
  }
  expect(answer.error).toBeUndefined();
  expect(server.requests).toBeGreaterThan(requests);
}, 60_000);
