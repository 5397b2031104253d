/**
 * The checks aws-jwt-verify leaves to its caller, with their errors. Pure: no env, no I/O; the
 * clock is a parameter.
 *
 * - checkTokenForm runs before any key is looked up (the token's encoding and JWS header);
 * - claimChecks (and oidcClaimChecks) run after the signature, as aws-jwt-verify's customJwtCheck.
 */
import { assertStringArrayContainsString, assertStringArraysOverlap } from "aws-jwt-verify/assert";
import { JwtExpiredError, JwtInvalidAudienceError } from "aws-jwt-verify/error";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import { AuthorizerError } from "./errors";

/**
 * A segment of the token is not the canonical base64url encoding of its bytes (RFC 7515 §2 and
 * RFC 4648 §3.5: no padding, unused bits zero). Lenient decoders map several strings to the same
 * bytes, so an altered token string would still verify while anything keyed on the string (API
 * Gateway's authorizer cache, a deny-list) took it for another token.
 */
export class NonCanonicalEncodingError extends AuthorizerError {
  override readonly name = "NonCanonicalEncodingError";
  readonly decision = "Invalid";
}

/**
 * The JWS header uses an extension this authorizer does not implement: any `crit` (RFC 7515
 * §4.1.11 says a token with a critical extension the recipient does not understand MUST be
 * rejected), or `b64: false` (RFC 7797, which changes what the signature covers).
 */
export class UnsupportedJwsExtensionError extends AuthorizerError {
  override readonly name = "UnsupportedJwsExtensionError";
  readonly decision = "Invalid";
}

/** The JWS header's `typ` is missing or not one of JWT_TYP (e.g. an ID token where access tokens are required). */
export class TokenTypeError extends AuthorizerError {
  override readonly name = "TokenTypeError";
  readonly decision = "Invalid";
}

/** A claim this authorizer requires that aws-jwt-verify leaves optional: `exp`, and `token_use` for OIDC when TOKEN_USE is set. */
export class RequiredClaimError extends AuthorizerError {
  override readonly name = "RequiredClaimError";
  readonly decision = "Invalid";
}

/** `iat` lies further in the future than the allowed clock skew. */
export class IssuedInFutureError extends AuthorizerError {
  override readonly name = "IssuedInFutureError";
  readonly decision = "Invalid";
}

/** An OIDC token's `token_use` is not TOKEN_USE. */
export class TokenUseMismatchError extends AuthorizerError {
  override readonly name = "TokenUseMismatchError";
  readonly decision = "Invalid";
}

/**
 * The base64url characters whose 6 bits may end a canonical encoding, by the segment's length
 * modulo 4: after 2 characters (one byte) the last 4 bits must be zero, after 3 (two bytes) the
 * last 2 bits. A length of 1 modulo 4 encodes no whole byte at all.
 */
const CANONICAL_LAST = { 2: "AQgw", 3: "AEIMQUYcgkosw048" } as const;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Whether `segment` is the canonical base64url (no padding) encoding of some bytes. */
export function isCanonicalBase64Url(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  return CANONICAL_LAST[rest as 2 | 3].includes(segment[segment.length - 1]);
}

/** `typ` as compared: lower case, without the `application/` prefix that RFC 7515 §4.1.9 lets senders omit. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith("application/") && lower.indexOf("/", 12) < 0 ? lower.slice(12) : lower;
}

export interface FormOptions {
  /** Normalized (see normalizeTyp); undefined: `typ` is not checked. */
  readonly requiredTyp?: readonly string[];
}

/**
 * The token's encoding and JWS header, checked before any key lookup: three canonical base64url
 * segments, no JWS extension, and the required `typ`. `header` is the token's decoded header.
 */
export function checkTokenForm(token: string, header: JwtHeader, options: FormOptions = {}): void {
  const segments = token.split(".");
  if (segments.length !== 3) return; // not a JWS compact token: aws-jwt-verify's parse refuses it (JwtParseError)
  const names = ["header", "payload", "signature"];
  segments.forEach((segment, i) => {
    if (!isCanonicalBase64Url(segment)) throw new NonCanonicalEncodingError(`The token's ${names[i]} is not canonical base64url`);
  });
  if (header.crit !== undefined) {
    throw new UnsupportedJwsExtensionError("The JWS header has crit; no critical extension is supported");
  }
  if (header.b64 !== undefined && header.b64 !== true) {
    throw new UnsupportedJwsExtensionError("The JWS header has b64 other than true (RFC 7797 is not supported)");
  }
  const required = options.requiredTyp;
  if (required !== undefined) {
    const typ = typeof header.typ === "string" ? normalizeTyp(header.typ) : undefined;
    if (typ === undefined || !required.includes(typ)) {
      throw new TokenTypeError(`Expected typ ${required.join(" or ")}, found ${typ === undefined ? "none" : typ}`);
    }
  }
}

export interface ClaimCheckOptions {
  /** Grace for `exp`, in seconds (JWT_GRACE_SECONDS). */
  readonly graceSeconds: number;
  /** How far in the future `iat` may be, in seconds (the larger of JWT_CLOCK_SKEW_SECONDS and the grace). */
  readonly futureSkewSeconds: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export type ClaimCheck = (props: { header: JwtHeader; payload: JwtPayload }) => void;

/**
 * The claim checks every issuer gets, after the signature and aws-jwt-verify's own `exp`/`nbf`
 * checks (which it runs with futureSkewSeconds as its grace, so that `nbf` gets the skew): `exp`
 * is required and gets only graceSeconds, and `iat` may be at most futureSkewSeconds ahead.
 */
export function claimChecks(options: ClaimCheckOptions): ClaimCheck {
  const { graceSeconds, futureSkewSeconds, now } = options;
  return ({ payload }) => {
    if (payload.exp === undefined) {
      throw new RequiredClaimError("Expected an exp claim, found none");
    }
    const nowSeconds = now() / 1000;
    if (payload.exp + graceSeconds < nowSeconds) {
      throw new JwtExpiredError(`Token expired at ${new Date(payload.exp * 1000).toISOString()}`, payload.exp);
    }
    if (payload.iat !== undefined && payload.iat - futureSkewSeconds > nowSeconds) {
      throw new IssuedInFutureError(`Expected iat at most ${futureSkewSeconds} s ahead, found ${Math.round(payload.iat - nowSeconds)} s ahead`);
    }
  };
}

/** OIDC `token_use`, when TOKEN_USE is set. */
export function checkTokenUse(payload: JwtPayload, expected: string): void {
  if (payload.token_use === undefined) throw new RequiredClaimError(`Expected token_use ${expected}, found none`);
  if (payload.token_use !== expected) throw new TokenUseMismatchError(`Expected token_use ${expected}, found another value`);
}

/**
 * An OIDC issuer's checks: `common`, then the audience in either shape, `aud` (ID tokens) or
 * `client_id` (Cognito-style access tokens without `aud`), then `token_use` when one is required.
 */
export function oidcClaimChecks(common: ClaimCheck, audiences: readonly string[], tokenUse: string | undefined): ClaimCheck {
  const accepted = [...audiences];
  return (props) => {
    common(props);
    const { payload } = props;
    if (payload.aud !== undefined) {
      assertStringArraysOverlap("Audience", payload.aud, accepted, JwtInvalidAudienceError);
    } else {
      assertStringArrayContainsString("Client ID", payload.client_id, accepted, JwtInvalidAudienceError);
    }
    if (tokenUse !== undefined) checkTokenUse(payload, tokenUse);
  };
}
