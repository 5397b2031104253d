/**
 * Key-set faults against a real local HTTPS JWKS server that the tests stop, stall or break.
 * The rules: keys already cached keep verifying; anything we cannot decide because the key set is
 * unavailable or broken is our failure (500, Error metric) — never an Allow, never a cacheable
 * Deny, never a 401 that would hide the outage from the Error alarm; the wait is bounded by
 * JWKS_FETCH_TIMEOUT_MS; a rotated key is picked up without a restart.
 */
import { captureOutput, type CapturedOutput } from "../support/capture";
import { type Harness, type HarnessOptions, SecretRegistry, startHarness } from "./support/harness";
import type { JwksMode, JwksServer } from "../support/jwks-server";
import { eventFor } from "../support/events";
import { cognitoAccessClaims, generateKey } from "../support/keys";

const TIMEOUT_MS = 500;
/** aws-jwt-verify's fetcher retries once; the whole fetch must still end within the configured timeout (+ scheduling slack). */
const FETCH_BOUND_MS = TIMEOUT_MS + 300;
/** The Lambda timeout the template uses for the authorizer is seconds; "far below" = under a second here. */
const FAR_BELOW_LAMBDA_TIMEOUT_MS = 1000;

let output: CapturedOutput;
const secrets = new SecretRegistry();
const open: Harness[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
/** Timings reported at the end (the lead's report wants them). */
const timings: Record<string, number> = {};

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  output = captureOutput();
});
afterAll(async () => {
  await Promise.all(open.map((h) => h.close()));
  output.stop();
  process.off("unhandledRejection", onUnhandled);
  process.stderr.write(
    `\n[security] key-set fault timings (JWKS_FETCH_TIMEOUT_MS=${TIMEOUT_MS}): ${Object.entries(timings)
      .map(([k, v]) => `${k}=${v.toFixed(1)}ms`)
      .join(", ")}\n`,
  );
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness({
    output,
    secrets,
    ...options,
    env: { JWKS_FETCH_TIMEOUT_MS: String(TIMEOUT_MS), JWKS_PENALTY_SECONDS: "1", ...options.env },
  });
  open.push(h);
  return h;
}

const validEvent = (h: Harness) => eventFor("token", h.sign(cognitoAccessClaims(), h.trusted));
const unknownKidEvent = (h: Harness, kid = `rotated-${Math.random().toString(36).slice(2)}`) =>
  eventFor("token", h.sign(cognitoAccessClaims(), generateKey(kid)));

describe("JWKS server down: cached keys keep verifying", () => {
  test("200 Allow for 20 valid tokens after the key-set server has been stopped; 500 (Error) fast for an unknown kid; cache intact afterwards", async () => {
    const h = await harness();
    expect(h.jwks.requests).toBe(1); // the prefetch at init
    await h.jwks.close();

    for (let i = 0; i < 20; i += 1) {
      const r = await h.invoke(validEvent(h));
      expect(r.verdict).toBe("Allow");
    }
    const unknown = await h.invoke(unknownKidEvent(h));
    timings.downUnknownKid = unknown.ms;
    expect(unknown.verdict).toBe("Error");
    expect(unknown.decisions).toEqual(["Error"]);
    expect(unknown.decisionLogs[0]?.reason).toBe("FetchError");
    expect(unknown.ms).toBeLessThan(FETCH_BOUND_MS);

    const after = await h.invoke(validEvent(h));
    expect(after.verdict).toBe("Allow");
  });
});

describe("JWKS server stalls: an unknown kid is rejected within the configured fetch timeout", () => {
  test.each<[string, JwksMode]>([
    ["hangs without answering", { kind: "hang" }],
    ["answers after 5 s", { kind: "slow", delayMs: 5000 }],
  ])("500 (Error) when the server %s; cached keys still Allow meanwhile", async (label, mode) => {
    const h = await harness();
    h.jwks.mode = mode;

    const unknown = await h.invoke(unknownKidEvent(h));
    timings[`stall(${label})UnknownKid`] = unknown.ms;
    expect(unknown.verdict).toBe("Error");
    expect(unknown.decisions).toEqual(["Error"]);
    expect(unknown.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(unknown.ms).toBeLessThan(FETCH_BOUND_MS);
    expect(unknown.ms).toBeLessThan(FAR_BELOW_LAMBDA_TIMEOUT_MS);

    const cached = await h.invoke(validEvent(h));
    expect(cached.verdict).toBe("Allow");
    expect(cached.ms).toBeLessThan(100);
  });

  test("cold start while the server hangs: init and the first request together stay bounded, and the answer is 500, not 401", async () => {
    const started = performance.now();
    const h = await harness({ beforeInit: (jwks) => (jwks.mode = { kind: "hang" }), noHydrateWait: true });
    const r = await h.invoke(validEvent(h));
    const total = performance.now() - started;
    timings.coldStartHangTotal = total;
    timings.coldStartHangFirstRequest = r.ms;
    expect(r.verdict).toBe("Error");
    expect(r.decisions).toEqual(["Error"]);
    // The request waits for the prefetch (≤ bound); its own fetch then falls inside the retry window
    // after that failed fetch and fails at once, so the whole request stays within one fetch bound.
    expect(r.ms).toBeLessThan(FETCH_BOUND_MS);
  });
});

describe("JWKS endpoint answers garbage: our failure (500, Error metric), never Allow", () => {
  const TEN_MB = 10 * 1024 * 1024;
  const faults: [string, (jwks: JwksServer, trustedJwk: Record<string, unknown>) => JwksMode][] = [
    ["HTTP 500", () => ({ kind: "status", status: 500 })],
    ["HTTP 404", () => ({ kind: "status", status: 404 })],
    ["a non-JSON body", () => ({ kind: "body", body: "garbage \u0000\u00ff not json" })],
    ["an HTML page with status 200", () => ({ kind: "body", body: "<!doctype html><html><body>Login</body></html>", contentType: "text/html" })],
    ["JSON without keys", () => ({ kind: "body", body: '{"issuer":"x"}' })],
    ["keys that are not JWKs", () => ({ kind: "body", body: '{"keys":["a",1,null]}' })],
    ["an empty key set", () => ({ kind: "body", body: '{"keys":[]}' })],
    ["10 MB of non-JSON", () => ({ kind: "body", body: Buffer.alloc(TEN_MB, 0x61) })],
    [
      "a 10 MB key set that does contain the trusted key (oversized: refused, not parsed into the cache)",
      (_jwks, jwk) => ({ kind: "body", body: JSON.stringify({ keys: [jwk], padding: "p".repeat(TEN_MB) }) }),
    ],
  ];

  test.each(faults)("cold start, valid token, endpoint serves %s → 500 Error", async (_label, fault) => {
    const h = await harness({ beforeInit: (jwks) => (jwks.mode = fault(jwks, jwks.keys[0] as Record<string, unknown>)) });
    const r = await h.invoke(validEvent(h));
    expect(r.verdict).toBe("Error");
    expect(r.decisions).toEqual(["Error"]);
    expect(r.status).toBe(500);
  });

  test.each(faults)("keys cached, endpoint then serves %s: unknown kid → 500 Error, cached keys still Allow", async (_label, fault) => {
    const h = await harness();
    h.jwks.mode = fault(h.jwks, h.jwks.keys[0] as Record<string, unknown>);
    const unknown = await h.invoke(unknownKidEvent(h));
    expect(unknown.verdict).toBe("Error");
    expect(unknown.decisions).toEqual(["Error"]);
    const cached = await h.invoke(validEvent(h));
    expect(cached.verdict).toBe("Allow");
  });
});

describe("key rotation is picked up without a restart", () => {
  test("a new kid published before its first token: Allow on the first request, one extra key-set fetch", async () => {
    const h = await harness();
    const next = secrets.key(generateKey("rotated-kid-2"));
    h.jwks.keys = [h.trusted.jwk, next.jwk];
    const before = h.jwks.requests;
    const r = await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), next)));
    expect(r.verdict).toBe("Allow");
    expect(h.jwks.requests - before).toBe(1);
    // The old key keeps working while both are published.
    expect((await h.invoke(validEvent(h))).verdict).toBe("Allow");
  });

  test("a token with the new kid arriving before the key is published: 401 until the penalty box (1 s) ends, then Allow", async () => {
    const h = await harness();
    const next = secrets.key(generateKey("rotated-kid-3"));
    const token = h.sign(cognitoAccessClaims(), next);

    const early = await h.invoke(eventFor("token", token));
    expect(early.verdict).toBe("Unauthorized");
    expect(early.decisionLogs[0]?.reason).toBe("KidNotFoundInJwksError");

    h.jwks.keys = [h.trusted.jwk, next.jwk];
    const blocked = await h.invoke(eventFor("token", token));
    expect(blocked.verdict).toBe("Unauthorized");
    expect(blocked.decisionLogs[0]?.reason).toBe("WaitPeriodNotYetEndedJwkError");

    const published = performance.now();
    let verdict = blocked.verdict;
    while (verdict !== "Allow" && performance.now() - published < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      verdict = (await h.invoke(eventFor("token", token))).verdict;
    }
    timings.rotationPickedUpAfterPenalty = performance.now() - published;
    expect(verdict).toBe("Allow");
  });

  test("the old key removed from the key set: its tokens are refused once the set is refetched", async () => {
    const h = await harness();
    const next = secrets.key(generateKey("rotated-kid-4"));
    h.jwks.keys = [next.jwk];
    expect((await h.invoke(eventFor("token", h.sign(cognitoAccessClaims(), next)))).verdict).toBe("Allow");
    const old = await h.invoke(validEvent(h));
    expect(old.verdict).toBe("Unauthorized");
  });
});

test("no unhandled rejections and no secret in any captured line", () => {
  expect(unhandled).toEqual([]);
  expect(output.lines.length).toBeGreaterThan(20);
  expect(secrets.foundIn(output.lines.join("\n"))).toEqual([]);
});
