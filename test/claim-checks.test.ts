/** src/claim-checks.ts: pure checks, a fake clock. */
import { randomBytes } from "node:crypto";
import { JwtExpiredError } from "aws-jwt-verify/error";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import {
  checkTokenForm,
  checkTokenUse,
  claimChecks,
  isCanonicalBase64Url,
  IssuedInFutureError,
  normalizeTyp,
  NonCanonicalEncodingError,
  RequiredClaimError,
  TokenTypeError,
  TokenUseMismatchError,
  UnsupportedJwsExtensionError,
} from "../src/claim-checks";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same bytes with the last character's unused bits set: a lenient decoder cannot tell them apart. */
function withUnusedBits(segment: string): string {
  const last = ALPHABET.indexOf(segment[segment.length - 1]);
  const unused = segment.length % 4 === 2 ? 0b1111 : 0b11;
  return segment.slice(0, -1) + ALPHABET[last | unused];
}

describe("isCanonicalBase64Url", () => {
  it("accepts Node's own encoding of every length from 0 to 40 bytes", () => {
    for (let n = 0; n <= 40; n += 1) {
      const segment = randomBytes(n).toString("base64url");
      expect([n, isCanonicalBase64Url(segment)]).toEqual([n, true]);
    }
  });

  it("refuses the same bytes with non-zero unused bits, for both partial lengths", () => {
    for (const n of [1, 2, 4, 5, 31, 32, 256]) {
      const segment = randomBytes(n).toString("base64url");
      const altered = withUnusedBits(segment);
      expect(altered).not.toBe(segment);
      expect(Buffer.from(altered, "base64url")).toEqual(Buffer.from(segment, "base64url")); // why it matters
      expect([n, isCanonicalBase64Url(altered)]).toEqual([n, false]);
    }
  });

  it("agrees with a decode-then-encode round trip through Node for every last character", () => {
    for (const prefix of ["Q", "QU", "QUJD", "QUJDR", "QUJDRE"]) {
      for (const last of ALPHABET) {
        const segment = prefix + last;
        const roundTrip = Buffer.from(segment, "base64url").toString("base64url") === segment;
        expect([segment, isCanonicalBase64Url(segment)]).toEqual([segment, roundTrip]);
      }
    }
  });

  it.each([
    ["padding", "QQ=="],
    ["a length of 1 modulo 4", "QUJDR"],
    ["standard base64 characters", "a+b/"],
    ["whitespace", "QUJD "],
  ])("refuses %s", (_case, segment) => {
    expect(isCanonicalBase64Url(segment)).toBe(false);
  });
});

describe("checkTokenForm", () => {
  const header: JwtHeader = { alg: "RS256", kid: "k1", typ: "JWT" };
  const token = [JSON.stringify(header), '{"sub":"x"}', "signature-bytes"].map((s) => Buffer.from(s).toString("base64url")).join(".");
  const seg = (i: number, value: string) => token.split(".").map((s, j) => (j === i ? value : s)).join(".");

  it("accepts a canonical token without extensions, and any typ when none is required", () => {
    expect(() => checkTokenForm(token, header)).not.toThrow();
    expect(() => checkTokenForm(token, { ...header, typ: "whatever" })).not.toThrow();
    expect(() => checkTokenForm(token, { alg: "RS256" })).not.toThrow();
  });

  it.each([0, 1, 2])("refuses segment %i with non-zero unused bits", (i) => {
    const segment = token.split(".")[i];
    const altered = segment.length % 4 === 0 ? `${segment}QR` : withUnusedBits(segment); // a 4n-long segment has no unused bits
    expect(() => checkTokenForm(seg(i, altered), header)).toThrow(NonCanonicalEncodingError);
  });

  it("leaves a token that is not three segments to aws-jwt-verify's parser", () => {
    expect(() => checkTokenForm(`${token}.QR`, header)).not.toThrow();
  });

  it.each<[string, JwtHeader]>([
    ["an unknown critical extension", { ...header, crit: ["x-unknown"], "x-unknown": 1 }],
    ["crit b64 with b64 false (RFC 7797)", { ...header, crit: ["b64"], b64: false }],
    ["an empty crit", { ...header, crit: [] }],
    ["a crit that is not an array", { ...header, crit: "exp" }],
    ["b64 false without crit", { ...header, b64: false }],
  ])("refuses %s", (_case, h) => {
    expect(() => checkTokenForm(token, h)).toThrow(UnsupportedJwsExtensionError);
  });

  it("accepts b64 true (the default encoding, spelled out)", () => {
    expect(() => checkTokenForm(token, { ...header, b64: true })).not.toThrow();
  });

  it.each<[string, unknown, boolean]>([
    ["at+jwt", "at+jwt", true],
    ["application/at+jwt", "application/at+jwt", true],
    ["AT+JWT (case-insensitive)", "AT+JWT", true],
    ["JWT (an ID token's)", "JWT", false],
    ["logout+jwt", "logout+jwt", false],
    ["no typ", undefined, false],
    ["a typ that is not a string", ["at+jwt"], false],
  ])("with JWT_TYP=at+jwt: %s → %s", (_case, typ, ok) => {
    const check = () => checkTokenForm(token, { alg: "RS256", ...(typ === undefined ? {} : { typ }) } as JwtHeader, { requiredTyp: ["at+jwt"] });
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(TokenTypeError);
  });
});

describe("normalizeTyp", () => {
  it.each([
    ["at+jwt", "at+jwt"],
    ["Application/AT+JWT", "at+jwt"],
    ["application/foo/bar", "application/foo/bar"],
    ["JWT", "jwt"],
  ])("%s → %s", (typ, expected) => {
    expect(normalizeTyp(typ)).toBe(expected);
  });
});

describe("claimChecks", () => {
  const NOW = 1_800_000_000;
  const check = claimChecks({ graceSeconds: 0, futureSkewSeconds: 60, now: () => NOW * 1000 });
  const run = (payload: JwtPayload) => () => check({ header: { alg: "RS256" }, payload });

  it.each<[string, JwtPayload, (new (...args: never[]) => Error) | undefined]>([
    ["a current token", { exp: NOW + 600, iat: NOW }, undefined],
    ["no exp", { iat: NOW }, RequiredClaimError],
    ["exp 1 s ago (grace 0, even though the skew is 60 s)", { exp: NOW - 1, iat: NOW - 600 }, JwtExpiredError],
    ["iat 5 s ahead (an IdP clock slightly fast)", { exp: NOW + 600, iat: NOW + 5 }, undefined],
    ["iat exactly 60 s ahead", { exp: NOW + 600, iat: NOW + 60 }, undefined],
    ["iat 61 s ahead", { exp: NOW + 600, iat: NOW + 61 }, IssuedInFutureError],
    ["iat an hour ahead", { exp: NOW + 7200, iat: NOW + 3600 }, IssuedInFutureError],
    ["no iat", { exp: NOW + 600 }, undefined],
  ])("%s", (_case, payload, error) => {
    if (error) expect(run(payload)).toThrow(error);
    else expect(run(payload)).not.toThrow();
  });

  it("gives exp the grace", () => {
    const lenient = claimChecks({ graceSeconds: 30, futureSkewSeconds: 60, now: () => NOW * 1000 });
    expect(() => lenient({ header: { alg: "RS256" }, payload: { exp: NOW - 30 } })).not.toThrow();
    expect(() => lenient({ header: { alg: "RS256" }, payload: { exp: NOW - 31 } })).toThrow(JwtExpiredError);
  });
});

describe("checkTokenUse", () => {
  it.each<[string, JwtPayload, (new (...args: never[]) => Error) | undefined]>([
    ["the expected use", { token_use: "access" }, undefined],
    ["no token_use", {}, RequiredClaimError],
    ["another token_use", { token_use: "id" }, TokenUseMismatchError],
  ])("%s", (_case, payload, error) => {
    if (error) expect(() => checkTokenUse(payload, "access")).toThrow(error);
    else expect(() => checkTokenUse(payload, "access")).not.toThrow();
  });
});
