/**
 * Builds the aws-jwt-verify verifiers once (per container), over one key-set cache, and routes
 * each token to its issuer's verifier. The pieces live beside it: jwks.ts (fetching and caching
 * key sets) and claim-checks.ts (the checks aws-jwt-verify leaves to its caller).
 */
import { CognitoJwtVerifier } from "aws-jwt-verify/cognito-verifier";
import type { Jwks } from "aws-jwt-verify/jwk";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import { JwtVerifier } from "aws-jwt-verify/jwt-verifier";
import { JwksNotAvailableInCacheError, JwtParseError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { checkTokenForm, claimChecks, oidcClaimChecks } from "./claim-checks";
import type { CognitoIssuerConfig, Config, OidcIssuerConfig } from "./config";
import { UnknownIssuerError, withoutStackTrace } from "./errors";
import { createJwksCache, type HttpsGet, RedirectingJwksCache, type RefreshFailure } from "./jwks";

/** Verifies a JWT against the configured issuers; rejects with aws-jwt-verify's error tree or ours. */
export interface TokenVerifier {
  verify(token: string): Promise<JwtPayload>;
  /** Fetches every configured key set; resolves to the failures (none when all were fetched). */
  hydrate(): Promise<unknown[]>;
}

export interface VerifierDeps {
  /**
   * Extra `https.request` options for the default fetcher (tests pass their local CA as `ca`;
   * deployments use NODE_EXTRA_CA_CERTS instead). The fetcher stays HTTPS-only either way.
   */
  readonly fetchOptions?: Readonly<Record<string, unknown>>;
  /** The default fetcher's transport (one GET). */
  readonly httpsGet?: HttpsGet;
  /** How long a failed key-set fetch closes its URI (tests shorten it); see RETRY_AFTER_FAILED_FETCH_MS. */
  readonly retryAfterFailureMs?: number;
  /** Milliseconds since the epoch, for the checks this module adds (exp, iat) and the key-set max-age. */
  readonly now?: () => number;
  /** Told about each failed key-set refresh whose cached keys were kept (the handler logs and counts it). */
  readonly onJwksRefreshFailure?: (failure: RefreshFailure) => void;
}

export const cognitoIssuers = (userPoolId: string): string[] => {
  const region = userPoolId.split("_")[0];
  return [
    `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  ];
};

/** Where aws-jwt-verify fetches a key set when no jwksUri is given: CognitoJwtVerifier's form, and JwtVerifier's. */
const cognitoJwksUri = (issuer: string) => `${issuer}/.well-known/jwks.json`;
const oidcJwksUri = (issuer: string) => new URL(`${new URL(issuer).pathname.replace(/\/$/, "")}/.well-known/jwks.json`, issuer).href;

type Verify = (token: string) => Promise<JwtPayload>;

/** aws-jwt-verify's own message for a header that is not a JSON object. */
const HEADER_NOT_JSON = "Invalid JWT. Header is not a valid JSON object";

/** Whether UTF-8 `bytes` can only parse as a JSON object: the first byte after JSON's whitespace (RFC 8259 §2) is `{`. */
function mayBeJsonObject(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte === 0x7b;
  }
  return false;
}

/**
 * One base64url segment as JSON, leniently; undefined when it is not a JSON object. Bytes that do
 * not start with `{` could not be one, so they are neither turned into text nor handed to JSON.parse
 * (whose SyntaxError, with its stack, was most of the cost of a garbage token).
 */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, "base64url");
  if (!mayBeJsonObject(bytes)) return undefined;
  const text = bytes.toString("utf8");
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header and the `iss` claim of a token, read leniently and without validating anything else:
 * they pick the verifier and feed the form checks; aws-jwt-verify then validates the whole token
 * (a malformed one fails there with the same JwtParseError). Undefined parts could not be read; the
 * `iss` of a token whose header cannot be read is not read either (nothing routes on it).
 */
export function readUnverified(token: string): { header: JwtHeader | undefined; iss: string | undefined } {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0) return { header: undefined, iss: undefined };
  const header = decodeSegment(token.slice(0, first)) as JwtHeader | undefined;
  // Without a header the token is parsed fully anyway (see createVerifier): its payload is not read here.
  if (header === undefined) return { header, iss: undefined };
  const payload = decodeSegment(token.slice(first + 1, second));
  return { header, iss: typeof payload?.iss === "string" ? payload.iss : undefined };
}

/**
 * aws-jwt-verify's verifySync where the token's key is in a fresh cached key set (every warm call),
 * its async verify otherwise (the key set is fetched or refreshed, an unknown kid waits out its
 * penalty). verifySync checks the same things as verify (signature, claims, Cognito's fields, our
 * customJwtCheck, which is synchronous), without the async chain, and its errors can be made
 * without stacks: a rejected token is expected traffic, logged by class name.
 */
function syncFirst(verifier: { verifySync(token: string): JwtPayload; verify(token: string): Promise<JwtPayload> }): Verify {
  return async (token) => {
    try {
      return withoutStackTrace(() => verifier.verifySync(token));
    } catch (err) {
      // Thrown by the key-set cache's getCachedJwk only: the key is not (freshly) cached.
      if (err instanceof JwksNotAvailableInCacheError || err instanceof KidNotFoundInJwksError) return verifier.verify(token);
      throw err;
    }
  };
}

/** Builds the aws-jwt-verify verifiers once (per container) and routes each token by its `iss`. */
export function createVerifier(config: Config, deps: VerifierDeps = {}): TokenVerifier {
  const now = deps.now ?? Date.now;
  // aws-jwt-verify applies one grace to exp and nbf; nbf gets the clock skew, exp is checked again with the grace alone.
  const futureSkewSeconds = Math.max(config.graceSeconds, config.clockSkewSeconds);
  const common = claimChecks({ graceSeconds: config.graceSeconds, futureSkewSeconds, now });
  const form = { requiredTyp: config.requiredTyp };
  const cognito = config.issuers.filter((i): i is CognitoIssuerConfig => i.kind === "cognito");
  const oidc = config.issuers.filter((i): i is OidcIssuerConfig => i.kind === "oidc");

  const redirects = new Map<string, string>();
  for (const pool of cognito) {
    if (pool.jwksUri) for (const iss of cognitoIssuers(pool.userPoolId)) redirects.set(cognitoJwksUri(iss), pool.jwksUri);
  }
  /**
   * aws-jwt-verify keeps the public-key objects it made per issuer and kid, so a kid that a fetched
   * key set now maps to other key material would keep verifying with the old key. Its public
   * cacheJwks() drops them: per fetched key-set URI, the calls that do so for its issuers.
   */
  const forgetters = new Map<string, ((jwks: Jwks) => void)[]>();
  const onKeysReplaced = (uri: string, jwks: Jwks) => forgetters.get(uri)?.forEach((forget) => forget(jwks));
  const track = (fetchedFrom: string, forget: (jwks: Jwks) => void) => forgetters.set(fetchedFrom, [...(forgetters.get(fetchedFrom) ?? []), forget]);
  const baseCache = createJwksCache({
    fetchTimeoutMs: config.jwksFetchTimeoutMs,
    maxAgeMs: config.jwksMaxAgeSeconds * 1000,
    staleGraceMs: config.jwksStaleGraceSeconds * 1000,
    penaltySeconds: config.jwksPenaltySeconds,
    requestOptions: deps.fetchOptions,
    retryAfterFailureMs: deps.retryAfterFailureMs,
    get: deps.httpsGet,
    now: deps.now,
    onRefreshFailure: deps.onJwksRefreshFailure,
    onKeysReplaced,
  });
  const jwksCache = redirects.size > 0 ? new RedirectingJwksCache(baseCache, redirects) : baseCache;

  const byIssuer = new Map<string, Verify>();
  const hydrators: (() => Promise<void>)[] = [];

  if (cognito.length > 0) {
    const verifier = CognitoJwtVerifier.create(
      cognito.map((pool) => ({
        userPoolId: pool.userPoolId,
        clientId: [...pool.clientIds],
        tokenUse: pool.tokenUse,
        graceSeconds: futureSkewSeconds,
        customJwtCheck: common,
      })),
      { jwksCache },
    );
    const verify = syncFirst(verifier);
    for (const pool of cognito) {
      for (const iss of cognitoIssuers(pool.userPoolId)) {
        byIssuer.set(iss, verify);
        const uri = redirects.get(cognitoJwksUri(iss)) ?? cognitoJwksUri(iss);
        if (!forgetters.has(uri)) track(uri, (jwks) => verifier.cacheJwks(jwks, pool.userPoolId));
      }
    }
    hydrators.push(() => verifier.hydrate());
  }
  if (oidc.length > 0) {
    const verifier = JwtVerifier.create(
      oidc.map((issuer) => ({
        issuer: issuer.issuer,
        audience: null, // checked in oidcClaimChecks, which also accepts client_id-shaped access tokens
        graceSeconds: futureSkewSeconds,
        customJwtCheck: oidcClaimChecks(common, issuer.audiences, issuer.tokenUse),
        ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}),
      })),
      { jwksCache },
    );
    const verify = syncFirst(verifier);
    for (const issuer of oidc) {
      byIssuer.set(issuer.issuer, verify);
      const uri = issuer.jwksUri ?? oidcJwksUri(issuer.issuer);
      track(uri, (jwks) => verifier.cacheJwks(jwks, issuer.issuer));
    }
    hydrators.push(() => verifier.hydrate());
  }

  return {
    async verify(token) {
      // A configured issuer goes straight to its verifier, which parses and validates the whole token
      // itself, so a token gets one full parse (aws-jwt-verify's) plus readUnverified's lenient decode,
      // instead of two full parses (measured with `npm run bench`).
      const quick = readUnverified(token);
      // A header that cannot be read as a JSON object is one aws-jwt-verify's parse refuses with
      // JwtParseError on every path (shape, JSON, not an object): the same error, without running a
      // parse whose outcome is known (test/verifier.test.ts checks this against aws-jwt-verify itself).
      if (quick.header === undefined) throw withoutStackTrace(() => new JwtParseError(HEADER_NOT_JSON));
      let routed = quick.iss === undefined ? undefined : byIssuer.get(quick.iss);
      let header: JwtHeader = quick.header;
      if (!routed) {
        // Anything else is parsed fully here (cheap, no crypto), so garbage gets aws-jwt-verify's own
        // parse errors and a foreign issuer UnknownIssuerError, before any key lookup.
        // Its JwtParseError is expected traffic, logged by class name: no stack is captured.
        const decomposed = withoutStackTrace(() => decomposeUnverifiedJwt(token));
        routed = decomposed.payload.iss === undefined ? undefined : byIssuer.get(decomposed.payload.iss);
        header = decomposed.header;
        if (!routed) throw new UnknownIssuerError("token issuer is not configured");
      }
      checkTokenForm(token, header, form);
      return routed(token);
    },
    async hydrate() {
      const results = await Promise.allSettled(hydrators.map((h) => h()));
      return results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    },
  };
}
