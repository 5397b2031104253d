/**
 * src/verifier.ts: the real aws-jwt-verify verifiers, composed over the real key-set cache and
 * fetcher, with a fake transport (counting its GETs) and a fake clock. Real generated keys; no
 * network, no sleeps.
 */
import { JwtExpiredError, JwtInvalidSignatureError, JwtNotBeforeError, JwtParseError, KidNotFoundInJwksError, NonRetryableFetchError } from "aws-jwt-verify/error";
import { IssuedInFutureError, NonCanonicalEncodingError, TokenTypeError, UnsupportedJwsExtensionError } from "../src/claim-checks";
import { type Config, loadConfig } from "../src/config";
import { UnknownIssuerError } from "../src/errors";
import type { HttpsGet, RefreshFailure } from "../src/jwks";
import { createVerifier, readUnverified } from "../src/verifier";
import type { Jwk } from "aws-jwt-verify/jwk";
import { verifyJwtSync } from "aws-jwt-verify/jwt-verifier";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import fc from "fast-check";
import { b64url, cognitoAccessClaims, generateKey, nowSeconds, signJwt, TEST_CLIENT_ID, TEST_ISSUER, TEST_POOL_ID, type TestKey } from "./support/keys";

const JWKS_URI = "https://keys.example.test/jwks.json";
const OIDC_ISSUER = "https://idp.example.test/tenant";

let key: TestKey;
let other: TestKey;
beforeAll(() => {
  key = generateKey("k1");
  other = generateKey("k2");
});

/** A fake transport serving `idp.keys` (or `idp.status`), counting GETs per URI. */
function fakeIdp() {
  const idp = { keys: [] as Record<string, unknown>[], status: 200, gets: [] as string[] };
  const get: HttpsGet = async (uri) => {
    idp.gets.push(uri);
    const body = new TextEncoder().encode(JSON.stringify({ keys: idp.keys }));
    return {
      statusCode: idp.status,
      headers: {},
      body: (async function* () {
        yield body;
      })(),
      close: () => undefined,
    };
  };
  return { idp, get };
}

function setup(env: Record<string, string> = {}) {
  let now = Date.now();
  const { idp, get } = fakeIdp();
  idp.keys = [key.jwk, other.jwk];
  const failures: RefreshFailure[] = [];
  const config: Config = loadConfig(
    { USER_POOL_ID: TEST_POOL_ID, CLIENT_ID: TEST_CLIENT_ID, JWKS_URI, JWKS_MAX_AGE_SECONDS: "2", ...env },
    { readFile: () => "", baseDir: "/" },
  );
  const verifier = createVerifier(config, { httpsGet: get, now: () => now, onJwksRefreshFailure: (f) => failures.push(f) });
  return { verifier, idp, failures, advance: (ms: number) => (now += ms) };
}

const token = (claims: Record<string, unknown> = {}, signer: TestKey = key, header: Record<string, unknown> = {}) =>
  signJwt(cognitoAccessClaims(claims), signer, header);

describe("routing", () => {
  it("verifies a token of a configured issuer, fetching its key set once", async () => {
    const { verifier, idp } = setup();
    expect((await verifier.hydrate())).toEqual([]);
    expect((await verifier.verify(token())).sub).toBe("11111111-2222-3333-4444-555555555555");
    await verifier.verify(token({}, other));
    expect(idp.gets).toEqual([JWKS_URI]);
  });

  it("refuses another issuer, and garbage, before any key lookup", async () => {
    const { verifier, idp } = setup();
    await expect(verifier.verify(token({ iss: "https://evil.example.test" }))).rejects.toBeInstanceOf(UnknownIssuerError);
    await expect(verifier.verify("not.a.jwt")).rejects.toBeInstanceOf(JwtParseError);
    expect(idp.gets).toEqual([]);
  });

  it("routes OIDC issuers too", async () => {
    const { idp, get } = fakeIdp();
    idp.keys = [key.jwk];
    const config = loadConfig({ ISSUER: OIDC_ISSUER, AUDIENCE: "api://pets", JWKS_URI }, { readFile: () => "", baseDir: "/" });
    const verifier = createVerifier(config, { httpsGet: get });
    const payload = await verifier.verify(signJwt({ iss: OIDC_ISSUER, aud: "api://pets", sub: "u", exp: nowSeconds() + 60 }, key));
    expect(payload.sub).toBe("u");
  });

  it("reads the header and iss leniently, and nothing when it cannot", () => {
    expect(readUnverified(token())).toEqual({ header: { alg: "RS256", kid: "k1", typ: "JWT" }, iss: TEST_ISSUER });
    expect(readUnverified("garbage")).toEqual({ header: undefined, iss: undefined });
    expect(readUnverified(`${b64url("[1]")}.${b64url("null")}.x`)).toEqual({ header: undefined, iss: undefined });
  });

  it("reads a header with JSON whitespace before its {, and leaves the payload of an unreadable header alone", () => {
    const payload = b64url(JSON.stringify({ iss: TEST_ISSUER }));
    expect(readUnverified(`${b64url(' \t\r\n{"alg":"RS256"}')}.${payload}.x`)).toEqual({ header: { alg: "RS256" }, iss: TEST_ISSUER });
    expect(readUnverified(`${b64url('\u00a0{"alg":"RS256"}')}.${payload}.x`)).toEqual({ header: undefined, iss: undefined });
    expect(readUnverified(`${b64url('"{}"')}.${payload}.x`)).toEqual({ header: undefined, iss: undefined });
    expect(readUnverified(`${b64url("{not json")}.${payload}.x`)).toEqual({ header: undefined, iss: undefined });
  });
});

describe("a header that cannot be read is refused as aws-jwt-verify refuses it", () => {
  /** Header texts near the edge: JSON whitespace, non-objects, broken JSON, a BOM, __proto__, valid objects. */
  const headerText = fc.oneof(
    fc.constantFrom("{}", ' \t\r\n{"alg":"RS256"}', "\ufeff{}", "\u00a0{}", "[1]", "null", "1", '"{}"', "{not json", "{", "", '{"__proto__":{}}', '{"alg":1}', '{"kid":null}'),
    fc.json(),
    fc.string(),
  );
  const segment = fc.oneof(headerText.map(b64url), fc.stringMatching(/^[A-Za-z0-9_=-]{0,40}$/), fc.string({ maxLength: 20 }));
  const payloadSegment = fc.oneof(fc.constant(b64url(JSON.stringify({ iss: TEST_ISSUER }))), fc.json().map(b64url), segment);
  const candidate = fc.oneof(
    fc.tuple(segment, payloadSegment, fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/)).map((parts) => parts.join(".")),
    fc.array(segment, { maxLength: 5 }).map((parts) => parts.join(".")),
    fc.string(),
  );

  it("every token whose header readUnverified cannot read is one aws-jwt-verify's parse rejects with JwtParseError", () => {
    let unreadable = 0;
    fc.assert(
      fc.property(candidate, (jwt) => {
        if (readUnverified(jwt).header !== undefined) return;
        unreadable += 1;
        expect(() => decomposeUnverifiedJwt(jwt)).toThrow(JwtParseError);
      }),
      { numRuns: 3000 },
    );
    expect(unreadable).toBeGreaterThan(500);
  });

  it("the verifier answers those with JwtParseError, before any key lookup", async () => {
    const { verifier, idp } = setup();
    for (const jwt of ["garbage", `${b64url("[1]")}.${b64url("{}")}.x`, `${b64url("\ufeff{}")}.${b64url("{}")}.x`, "a.b", ""]) {
      await expect(verifier.verify(jwt)).rejects.toBeInstanceOf(JwtParseError);
    }
    expect(idp.gets).toEqual([]);
  });
});

describe("the token's form is checked before any key lookup", () => {
  it.each<[string, () => string, new (...args: never[]) => Error]>([
    ["an unknown crit", () => token({}, key, { crit: ["x-unknown"], "x-unknown": true }), UnsupportedJwsExtensionError],
    ["crit b64 with b64 false", () => token({}, key, { crit: ["b64"], b64: false }), UnsupportedJwsExtensionError],
    [
      "a signature with non-zero unused bits (same bytes, another string)",
      () => {
        const jwt = token();
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const last = alphabet.indexOf(jwt[jwt.length - 1]);
        return jwt.slice(0, -1) + alphabet[last | 0b1111]; // a 2048-bit RSA signature ends 2 characters into a quantum
      },
      NonCanonicalEncodingError,
    ],
  ])("%s", async (_case, make, error) => {
    const { verifier, idp } = setup();
    await expect(verifier.verify(make())).rejects.toBeInstanceOf(error);
    expect(idp.gets).toEqual([]); // no fetch was needed to refuse it
  });

  it("(why: aws-jwt-verify alone accepts that altered token string)", () => {
    const jwt = token();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const altered = jwt.slice(0, -1) + alphabet[alphabet.indexOf(jwt[jwt.length - 1]) | 0b1111];
    expect(altered).not.toBe(jwt);
    expect(verifyJwtSync(altered, key.jwk as Jwk, { issuer: null, audience: null }).sub).toBe("11111111-2222-3333-4444-555555555555");
  });

  it("requires the configured typ (JWT_TYP=at+jwt)", async () => {
    const { verifier } = setup({ JWT_TYP: "at+jwt" });
    await expect(verifier.verify(token({}, key, { typ: "at+jwt" }))).resolves.toMatchObject({ sub: expect.any(String) });
    await expect(verifier.verify(token({}, key, { typ: "application/at+jwt" }))).resolves.toBeDefined();
    await expect(verifier.verify(token({}, key, { typ: "JWT" }))).rejects.toBeInstanceOf(TokenTypeError);
    await expect(verifier.verify(token({}, key, { typ: undefined }))).rejects.toBeInstanceOf(TokenTypeError);
  });
});

describe("time claims: a small clock skew for iat and nbf, none for exp", () => {
  it.each<[string, Record<string, unknown>, (new (...args: never[]) => Error) | undefined]>([
    ["iat 5 s ahead", { iat: nowSeconds() + 5 }, undefined],
    ["nbf 5 s ahead", { nbf: nowSeconds() + 5 }, undefined],
    ["iat an hour ahead", { iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 }, IssuedInFutureError],
    ["nbf 120 s ahead", { nbf: nowSeconds() + 120 }, JwtNotBeforeError],
    ["exp 10 s ago (JWT_GRACE_SECONDS=0)", { exp: nowSeconds() - 10, iat: nowSeconds() - 600 }, JwtExpiredError],
  ])("%s", async (_case, claims, error) => {
    const { verifier } = setup();
    const result = verifier.verify(token(claims));
    if (error) await expect(result).rejects.toBeInstanceOf(error);
    else await expect(result).resolves.toBeDefined();
  });

  it("JWT_CLOCK_SKEW_SECONDS=0 refuses iat 5 s ahead", async () => {
    const { verifier } = setup({ JWT_CLOCK_SKEW_SECONDS: "0" });
    await expect(verifier.verify(token({ iat: nowSeconds() + 5 }))).rejects.toBeInstanceOf(IssuedInFutureError);
  });
});

describe("key-set refresh (JWKS_MAX_AGE_SECONDS=2)", () => {
  it("a kid removed from the key set is refused once the set has been refreshed, with one fetch", async () => {
    const { verifier, idp, advance } = setup();
    await verifier.hydrate();
    await verifier.verify(token({}, other));
    idp.keys = [key.jwk];
    advance(1999);
    await expect(verifier.verify(token({}, other))).resolves.toBeDefined();
    expect(idp.gets).toHaveLength(1);
    advance(1);
    await expect(verifier.verify(token({}, other))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(verifier.verify(token())).resolves.toBeDefined();
    expect(idp.gets).toHaveLength(2);
  });

  it("a kid whose key material the IdP replaced stops verifying tokens of the old key", async () => {
    const { verifier, idp, advance } = setup();
    const old = token();
    await expect(verifier.verify(old)).resolves.toBeDefined();
    const replacement = generateKey("k1");
    idp.keys = [replacement.jwk, other.jwk];
    advance(2000);
    await expect(verifier.verify(old)).rejects.toBeInstanceOf(JwtInvalidSignatureError);
    await expect(verifier.verify(token({}, replacement))).resolves.toBeDefined();
  });

  it("the same for an OIDC issuer whose key-set URL aws-jwt-verify derives (mixed-case host)", async () => {
    let now = Date.now();
    const { idp, get } = fakeIdp();
    idp.keys = [key.jwk];
    const issuer = "https://IdP.Example.test/tenant";
    const config = loadConfig({ ISSUER: issuer, AUDIENCE: "api://pets", JWKS_MAX_AGE_SECONDS: "2" }, { readFile: () => "", baseDir: "/" });
    const verifier = createVerifier(config, { httpsGet: get, now: () => now });
    const old = signJwt({ iss: issuer, aud: "api://pets", sub: "u", exp: nowSeconds() + 60 }, key);
    await expect(verifier.verify(old)).resolves.toBeDefined();
    const replacement = generateKey("k1");
    idp.keys = [replacement.jwk];
    now += 2000;
    await expect(verifier.verify(old)).rejects.toBeInstanceOf(JwtInvalidSignatureError);
    expect(idp.gets).toEqual(["https://idp.example.test/tenant/.well-known/jwks.json", "https://idp.example.test/tenant/.well-known/jwks.json"]);
  });

  it("a failed refresh keeps the keys and is reported", async () => {
    const { verifier, idp, advance, failures } = setup();
    await verifier.hydrate();
    idp.status = 503;
    advance(2500);
    await expect(verifier.verify(token())).resolves.toBeDefined();
    expect(idp.gets).toHaveLength(2);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ uri: JWKS_URI, staleForMs: 500 });
    expect(failures[0].error).toBeInstanceOf(NonRetryableFetchError);
  });

  it("hydrate reports a key set that could not be fetched", async () => {
    const { verifier, idp } = setup();
    idp.status = 500;
    const failures = await verifier.hydrate();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(NonRetryableFetchError);
  });
});
