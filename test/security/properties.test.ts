/**
 * Property-based tests (fast-check) through the real handler and a real local JWKS server.
 * For any input the handler resolves to one of Allow / Deny or rejects with exactly "Unauthorized"
 * or "Authorizer error", emits exactly one decision metric, and never Allows unless the token
 * carries a signature by the trusted key over claims that satisfy the contract.
 */
import fc from "fast-check";
import { type Invocation, METRICS_FOR, SecretRegistry, useHarness } from "./support/harness";
import { eventFor, type EventName } from "../support/events";
import { b64url, cognitoAccessClaims, nowSeconds, signHs256, signRaw, TEST_CLIENT_ID, TEST_ISSUER, unsignedPart } from "../support/keys";

const RUNS = Number(process.env.SECURITY_FC_RUNS ?? 300);
const secrets = new SecretRegistry();
let invocations = 0;

const suite = useHarness(secrets);

/** The invariant every single invocation must satisfy, whatever the input. */
function wellFormed(r: Invocation): void {
  invocations += 1;
  expect(["Allow", "Deny", "Unauthorized", "Error"]).toContain(r.verdict);
  expect(r.decisions).toHaveLength(1);
  if (r.verdict !== "Other") expect(METRICS_FOR[r.verdict]).toContain(r.decisions[0]);
  if (r.response !== undefined) {
    const context = (r.response as { context?: Record<string, unknown> }).context ?? {};
    for (const v of Object.values(context)) expect(["string", "number", "boolean"]).toContain(typeof v);
    if ("principalId" in r.response) {
      expect(typeof r.response.principalId).toBe("string");
      expect(r.response.principalId.length).toBeGreaterThan(0);
    }
  }
}

const kinds = fc.constantFrom<EventName>("token", "request", "http-api");
const b64seg = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/);
const jsonObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });
const CLAIMS = ["iss", "sub", "exp", "nbf", "iat", "client_id", "aud", "token_use", "scope", "cognito:groups", "username", "jti", "auth_time"];

describe("never Allow without a trusted signature", () => {
  test("arbitrary strings as the Authorization value", async () => {
    await fc.assert(
      fc.asyncProperty(kinds, fc.string({ maxLength: 300 }), async (kind, value) => {
        const event = eventFor(kind, "PLACEHOLDER");
        const raw = JSON.parse(JSON.stringify(event).split("Bearer PLACEHOLDER").join(JSON.stringify(value).slice(1, -1)));
        const r = await suite.h.invoke(raw);
        wellFormed(r);
        expect(r.verdict).not.toBe("Allow");
        expect(r.verdict).not.toBe("Deny");
      }),
      { numRuns: RUNS },
    );
  });

  test("arbitrary base64url segments (1–5 of them) after Bearer", async () => {
    await fc.assert(
      fc.asyncProperty(kinds, fc.array(b64seg, { minLength: 1, maxLength: 5 }), async (kind, segments) => {
        const r = await suite.h.invoke(eventFor(kind, segments.join(".")));
        wellFormed(r);
        expect(r.verdict).toBe("Unauthorized");
      }),
      { numRuns: RUNS },
    );
  });

  test("arbitrary JSON header and payload, unsigned, HS256 with the public key, or signed by an untrusted key", async () => {
    const signing = fc.constantFrom("none-empty", "none-random", "attacker", "hs256-public-key");
    const alg = fc.constantFrom("RS256", "none", "None", "HS256", "ES256", "PS256", undefined);
    await fc.assert(
      fc.asyncProperty(kinds, jsonObject, jsonObject, alg, fc.boolean(), signing, async (kind, headerExtra, claimExtra, algorithm, trustedKid, how) => {
        const header = { ...headerExtra, alg: algorithm, ...(trustedKid ? { kid: suite.h.trusted.kid } : {}) };
        const payload = { ...cognitoAccessClaims(), ...claimExtra };
        let token: string;
        if (how === "attacker") token = signRaw(JSON.stringify(header), JSON.stringify(payload), suite.h.attacker);
        else if (how === "hs256-public-key") token = signHs256(header, payload, JSON.stringify(suite.h.trusted.jwk));
        else token = `${unsignedPart(JSON.stringify(header), JSON.stringify(payload))}.${how === "none-empty" ? "" : b64url("sig")}`;
        const r = await suite.h.invoke(eventFor(kind, secrets.token(token)));
        wellFormed(r);
        expect(r.verdict).toBe("Unauthorized");
      }),
      { numRuns: RUNS },
    );
  });

  test("one character of a valid token's header or payload changed, or of its signature (but the last, whose low bits are padding)", async () => {
    const alphabet = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split(""));
    await fc.assert(
      fc.asyncProperty(kinds, fc.nat(), alphabet, async (kind, position, replacement) => {
        const token = suite.h.sign(cognitoAccessClaims(), suite.h.trusted);
        const lastSigChar = token.length - 1;
        const candidates = Array.from({ length: token.length }, (_, i) => i).filter((i) => token[i] !== "." && i !== lastSigChar);
        const at = candidates[position % candidates.length];
        fc.pre(token[at] !== replacement);
        const mutated = token.slice(0, at) + replacement + token.slice(at + 1);
        const r = await suite.h.invoke(eventFor(kind, mutated));
        wellFormed(r);
        expect(r.verdict).toBe("Unauthorized");
      }),
      { numRuns: RUNS },
    );
  });
});

describe("tokens signed by the trusted key with arbitrary claim values", () => {
  test("always a well-formed answer; Allow only when the claims satisfy the contract (independent oracle)", async () => {
    const now = nowSeconds();
    const claimValue = fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom(TEST_ISSUER, TEST_CLIENT_ID, "access", "id", "pets/read", "pets/write", ["admin"], now - 100, now + 30, now + 100, now + 3600),
    );
    const overrides = fc.dictionary(fc.constantFrom(...CLAIMS), fc.option(claimValue, { nil: undefined }), { maxKeys: 4 });
    let allows = 0;
    await fc.assert(
      fc.asyncProperty(kinds, overrides, async (kind, over) => {
        const claims: Record<string, unknown> = cognitoAccessClaims();
        for (const [k, v] of Object.entries(over)) {
          if (v === undefined) delete claims[k];
          else claims[k] = v;
        }
        const r = await suite.h.invoke(eventFor(kind, suite.h.sign(claims, suite.h.trusted)));
        wellFormed(r);
        if (r.verdict === "Allow" || r.verdict === "Deny") {
          // The contract, written independently of src/: what a verified Cognito access token must hold.
          const t = nowSeconds();
          expect(claims.iss).toBe(TEST_ISSUER);
          expect(claims.client_id).toBe(TEST_CLIENT_ID);
          expect(claims.token_use).toBe("access");
          expect(typeof claims.exp).toBe("number");
          expect(claims.exp as number).toBeGreaterThan(t);
          // iat and nbf may be up to the documented default clock skew (JWT_CLOCK_SKEW_SECONDS=60) ahead.
          if (claims.nbf !== undefined) expect(claims.nbf as number).toBeLessThanOrEqual(t + 60);
          if (claims.iat !== undefined) expect(claims.iat as number).toBeLessThanOrEqual(t + 60);
          if (claims.sub !== undefined) expect(typeof claims.sub).toBe("string");
        }
        if (r.verdict === "Allow") {
          allows += 1;
          // GET /pets needs pets/read (scope) under the example rules.
          expect(String(claims.scope).split(" ")).toContain("pets/read");
        }
      }),
      { numRuns: RUNS * 2 },
    );
    // The generator must reach the Allow side sometimes, or the oracle above was never exercised.
    expect(allows).toBeGreaterThan(0);
  });
});

describe("arbitrary events", () => {
  test("any JSON value as the event: never Allow, never anything but the four answers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (event) => {
        const r = await suite.h.invoke(event);
        wellFormed(r);
        expect(r.verdict).not.toBe("Allow");
      }),
      { numRuns: RUNS },
    );
  });

  test("sample events with a valid token and arbitrary values in their fields: always one of the four answers", async () => {
    const FIELDS = ["type", "version", "methodArn", "routeArn", "headers", "multiValueHeaders", "identitySource", "requestContext", "authorizationToken"];
    await fc.assert(
      fc.asyncProperty(
        kinds,
        fc.dictionary(fc.constantFrom(...FIELDS), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }), { maxKeys: 3 }),
        async (kind, changes) => {
          const event: Record<string, unknown> = eventFor(kind, suite.h.sign(cognitoAccessClaims(), suite.h.trusted));
          for (const [k, v] of Object.entries(changes)) {
            if (v === undefined) delete event[k];
            else event[k] = v;
          }
          const r = await suite.h.invoke(event);
          wellFormed(r);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

test("the properties ran, and no secret reached any captured line", () => {
  expect(invocations).toBeGreaterThan(RUNS * 6);
  expect(secrets.foundIn(suite.output.lines.join("\n"))).toEqual([]);
});
