/**
 * Refetch flood: tokens with random unknown kids (each would justify a key-set refetch, to catch a
 * rotation) must not turn the authorizer into an amplifier against the identity provider. The
 * penalty box (JWKS_PENALTY_SECONDS) allows one refetch per period per key-set URL; meanwhile
 * valid tokens keep verifying from the cache.
 */
import { randomBytes } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { captureOutput, type CapturedOutput } from "../support/capture";
import { type Harness, SecretRegistry, startHarness } from "./support/harness";
import { eventFor } from "../support/events";
import { cognitoAccessClaims, generateKey, type TestKey } from "../support/keys";
import { RETRY_AFTER_FAILED_FETCH_MS } from "../../src/jwks";

const FLOOD = 1000;
let output: CapturedOutput;
const secrets = new SecretRegistry();
const harnesses: Harness[] = [];
let signer: TestKey;
const report: string[] = [];

beforeAll(() => {
  output = captureOutput();
  signer = generateKey("unused");
});
afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  output.stop();
  process.stderr.write(`\n[security] refetch flood: ${report.join("; ")}\n`);
});

const randomKid = () => randomBytes(12).toString("base64url");

async function flood(h: Harness, count: number, concurrency: number) {
  const tally: Record<string, number> = {};
  let validAllowed = 0;
  let validSent = 0;
  const one = async (i: number) => {
    const r = await h.invoke(eventFor("token", h.sign(cognitoAccessClaims({ jti: String(i) }), signer, { kid: randomKid() })));
    tally[r.verdict] = (tally[r.verdict] ?? 0) + 1;
    if (i % 10 === 0) {
      validSent += 1;
      if ((await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), h.trusted)))).verdict === "Allow") validAllowed += 1;
    }
  };
  for (let i = 0; i < count; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, count - i) }, (_, j) => one(i + j)));
    await nextTurn();
  }
  return { tally, validAllowed, validSent };
}

test(`${FLOOD} tokens with random unknown kids (sequential, as one Lambda container sees them) cause at most 2 key-set requests; every one is 401; valid tokens keep verifying`, async () => {
  const h = await startHarness({ output, secrets, env: { JWKS_PENALTY_SECONDS: "10" } });
  harnesses.push(h);
  const before = h.jwks.requests;
  const started = performance.now();
  const { tally, validAllowed, validSent } = await flood(h, FLOOD, 1);
  const seconds = (performance.now() - started) / 1000;
  const refetches = h.jwks.requests - before;
  report.push(`sequential ${FLOOD} unknown kids in ${seconds.toFixed(1)} s → ${refetches} JWKS request(s) (penalty 10 s); valid ${validAllowed}/${validSent} Allow`);

  expect(tally).toEqual({ Unauthorized: FLOOD });
  expect(validSent).toBe(FLOOD / 10);
  expect(validAllowed).toBe(validSent);
  expect(refetches).toBeGreaterThanOrEqual(1); // the first unknown kid does refetch (rotation support)…
  expect(refetches).toBeLessThanOrEqual(2); // …and the penalty box blocks the rest
});

test(`${FLOOD} unknown kids 50 at a time: concurrent refetches are coalesced, still a handful`, async () => {
  const h = await startHarness({ output, secrets, env: { JWKS_PENALTY_SECONDS: "10" } });
  harnesses.push(h);
  const before = h.jwks.requests;
  const { tally, validAllowed, validSent } = await flood(h, FLOOD, 50);
  const refetches = h.jwks.requests - before;
  report.push(`concurrent(50) ${FLOOD} unknown kids → ${refetches} JWKS request(s); valid ${validAllowed}/${validSent} Allow`);

  expect(tally).toEqual({ Unauthorized: FLOOD });
  expect(validAllowed).toBe(validSent);
  expect(refetches).toBeLessThanOrEqual(2);
});

test("with JWKS_PENALTY_SECONDS=1 the refetch rate is bounded by time, not by the number of tokens", async () => {
  const h = await startHarness({ output, secrets, env: { JWKS_PENALTY_SECONDS: "1" } });
  harnesses.push(h);
  const before = h.jwks.requests;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < 2500) {
    const r = await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), signer, { kid: randomKid() })));
    expect(r.verdict).toBe("Unauthorized");
    sent += 1;
    await nextTurn(); // let timers run between invocations, as they do between real Lambda invokes
  }
  const seconds = (performance.now() - started) / 1000;
  const refetches = h.jwks.requests - before;
  report.push(`penalty 1 s: ${sent} unknown kids in ${seconds.toFixed(1)} s → ${refetches} JWKS requests`);
  expect(sent).toBeGreaterThan(100);
  expect(refetches).toBeGreaterThanOrEqual(2); // the penalty did end and allow another refetch
  expect(refetches).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
});

test("unknown kids while the key-set server hangs: 500s bounded by JWKS_FETCH_TIMEOUT_MS, at most one attempt per retry window, valid tokens unaffected", async () => {
  const h = await startHarness({ output, secrets, env: { JWKS_PENALTY_SECONDS: "10", JWKS_FETCH_TIMEOUT_MS: "200" } });
  harnesses.push(h);
  h.jwks.mode = { kind: "hang" };
  const before = h.jwks.requests;
  const started = performance.now();
  const N = 10;
  let slowest = 0;
  for (let i = 0; i < N; i += 1) {
    const r = await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), signer, { kid: randomKid() })));
    expect(r.verdict).toBe("Error");
    slowest = Math.max(slowest, r.ms);
    const valid = await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), h.trusted)));
    expect(valid.verdict).toBe("Allow");
    expect(valid.ms).toBeLessThan(100);
  }
  const attempts = h.jwks.requests - before;
  // aws-jwt-verify's penalty box only covers a kid missing from a fetched set; our fetcher closes the
  // key set for RETRY_AFTER_FAILED_FETCH_MS after a failed fetch, so unknown kids during an outage
  // cost at most one bounded attempt per window and are otherwise answered at once.
  const seconds = (performance.now() - started) / 1000;
  report.push(
    `outage (hang, timeout 200 ms): ${N} unknown kids → ${attempts} JWKS attempts, slowest ${slowest.toFixed(0)} ms, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  expect(slowest).toBeLessThan(200 + 300);
  expect(attempts).toBeGreaterThanOrEqual(1);
  expect(attempts).toBeLessThanOrEqual(Math.ceil(seconds / (RETRY_AFTER_FAILED_FETCH_MS / 1000)) + 1);
  expect(attempts).toBeLessThan(N);
});

test("no secret in any captured line", () => {
  expect(secrets.foundIn(output.lines.join("\n"))).toEqual([]);
});
