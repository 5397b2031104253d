import { ReplayCache } from "../src/replay-cache";
import {
  comparableUrl,
  DpopAccessTokenHashError,
  DpopKeyMismatchError,
  DpopProofKeyError,
  DpopProofMalformedError,
  DpopProofReplayedError,
  DpopUrlMismatchError,
  jwkThumbprint,
  MAX_PROOF_LENGTH,
  sha256Base64Url,
  verifyDpopProof,
} from "../src/dpop";
import { type DpopKey, dpopProof, generateDpopKey, thumbprint } from "./support/dpop";

/** RFC 7638 §3.1's example key and its published thumbprint. */
const RFC_7638_JWK = {
  kty: "RSA",
  n:
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
  e: "AQAB",
  alg: "RS256",
  kid: "2011-04-29",
};

describe("jwkThumbprint (RFC 7638)", () => {
  it("gives RFC 7638's published thumbprint for its example key, optional members ignored", () => {
    expect(jwkThumbprint(RFC_7638_JWK)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("agrees with the test kit's own construction for EC and RSA keys", () => {
    for (const key of [generateDpopKey("ES256"), generateDpopKey("RS256")]) expect(jwkThumbprint(key.publicJwk)).toBe(thumbprint(key.publicJwk));
  });

  it.each([
    ["an oct key", { kty: "oct", k: "c2VjcmV0" }],
    ["no kty", { x: "a", y: "b", crv: "P-256" }],
    ["a missing member", { kty: "EC", crv: "P-256", x: "a" }],
    ["a member that is not a string", { kty: "RSA", n: 1, e: "AQAB" }],
  ])("refuses %s", (_name, jwk) => expect(() => jwkThumbprint(jwk)).toThrow(DpopProofKeyError));
});

describe("sha256Base64Url", () => {
  it("gives RFC 9449 §7.1's ath for its example access token", () => {
    expect(sha256Base64Url("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")).toBe("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
  });
});

describe("comparableUrl", () => {
  it.each([
    ["https://API.Example.com:443/v1/pets?x=1#f", "https://api.example.com/v1/pets"],
    ["https://api.example.com/a/../pets", "https://api.example.com/pets"],
    ["https://api.example.com:8443/pets", "https://api.example.com:8443/pets"],
    ["/pets", undefined],
    ["not a url", undefined],
  ])("%s → %s", (input, expected) => expect(comparableUrl(input)).toBe(expected));
});

describe("verifyDpopProof", () => {
  let key: DpopKey;
  const NOW = 1_800_000_000_000;
  const URL = "https://api.example.com/prod/pets";
  beforeAll(() => {
    key = generateDpopKey();
  });
  const options = (replayCache = new ReplayCache(10, () => NOW)) => ({ windowSeconds: 60, now: () => NOW, replayCache });
  const target = (overrides = {}) => ({ method: "GET", urls: [URL], accessToken: "a.b.c", jkt: key.jkt, ...overrides });
  const proof = (overrides = {}) => dpopProof(key, { htm: "GET", htu: URL, accessToken: "a.b.c", iat: NOW / 1000, ...overrides });

  it("accepts a fresh proof, once", () => {
    const cache = new ReplayCache(10, () => NOW);
    const p = proof();
    expect(() => verifyDpopProof(p, target(), options(cache))).not.toThrow();
    expect(() => verifyDpopProof(p, target(), options(cache))).toThrow(DpopProofReplayedError);
  });

  it("accepts proofs within the window either way, and not one second beyond", () => {
    for (const iat of [NOW / 1000 - 60, NOW / 1000 + 60]) expect(() => verifyDpopProof(proof({ iat }), target(), options())).not.toThrow();
    for (const iat of [NOW / 1000 - 61, NOW / 1000 + 61]) expect(() => verifyDpopProof(proof({ iat }), target(), options())).toThrow(/iat/);
  });

  it("checks ath, cnf.jkt and htu against the target", () => {
    expect(() => verifyDpopProof(proof(), target({ accessToken: "a.b.d" }), options())).toThrow(DpopAccessTokenHashError);
    expect(() => verifyDpopProof(proof(), target({ jkt: generateDpopKey().jkt }), options())).toThrow(DpopKeyMismatchError);
    expect(() => verifyDpopProof(proof(), target({ urls: [] }), options())).toThrow(DpopUrlMismatchError);
  });

  it("refuses over-long proofs and jtis, and non-canonical base64url, before any crypto", () => {
    expect(() => verifyDpopProof("a".repeat(MAX_PROOF_LENGTH + 1), target(), options())).toThrow(DpopProofMalformedError);
    expect(() => verifyDpopProof(proof({ jti: "j".repeat(257) }), target(), options())).toThrow(DpopProofMalformedError);
    const [h, p, s] = proof().split(".");
    expect(() => verifyDpopProof(`${h}=.${p}.${s}`, target(), options())).toThrow(DpopProofMalformedError);
  });

  it("refuses a jwk whose alg disagrees with the header, as aws-jwt-verify does, as a key error (never our 500)", () => {
    expect(() => verifyDpopProof(proof({ header: { jwk: { ...key.publicJwk, alg: "ES384" } } }), target(), options())).toThrow(DpopProofKeyError);
  });

  it("refuses a proof with crit", () => {
    expect(() => verifyDpopProof(proof({ header: { crit: ["exp"] } }), target(), options())).toThrow(DpopProofMalformedError);
  });
});
