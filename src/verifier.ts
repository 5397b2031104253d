import { assertStringArrayContainsString, assertStringArraysOverlap, assertStringEquals } from "aws-jwt-verify/assert";
import { CognitoJwtVerifier } from "aws-jwt-verify/cognito-verifier";
import { FetchError, JwksValidationError, JwtInvalidAudienceError, JwtInvalidClaimError, NonRetryableFetchError } from "aws-jwt-verify/error";
import { type Fetcher, fetch as httpsFetch } from "aws-jwt-verify/https";
import { assertIsJwks, type JwksCache, type Jwks, SimpleJwksCache, SimplePenaltyBox } from "aws-jwt-verify/jwk";
import { safeJsonParse } from "aws-jwt-verify/safe-json-parse";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import { JwtVerifier } from "aws-jwt-verify/jwt-verifier";
import type { Config, CognitoIssuerConfig, OidcIssuerConfig } from "./config";
import { registerErrorNames, UnknownIssuerError } from "./errors";

/** Verifies a JWT against the configured issuers; rejects with aws-jwt-verify's error tree or ours. */
export interface TokenVerifier {
  verify(token: string): Promise<JwtPayload>;
  /** Fetches every configured key set; resolves to the failures (none when all were fetched). */
  hydrate(): Promise<unknown[]>;
}

export interface VerifierDeps {
  /** The key-set cache and fetcher; defaults to aws-jwt-verify's, HTTPS only, with the configured timeout. */
  readonly jwksCache?: JwksCache;
  /**
   * Extra `https.request` options for the default fetcher (tests pass their local CA as `ca`;
   * deployments use NODE_EXTRA_CA_CERTS instead). The fetcher stays HTTPS-only either way.
   */
  readonly fetchOptions?: Readonly<Record<string, unknown>>;
  /** How long a failed key-set fetch closes its URI (tests shorten it); see RETRY_AFTER_FAILED_FETCH_MS. */
  readonly retryAfterFailureMs?: number;
  /** Milliseconds since the epoch, for the checks this module adds (iat). */
  readonly now?: () => number;
}

export const cognitoIssuers = (userPoolId: string): string[] => {
  const region = userPoolId.split("_")[0];
  return [
    `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  ];
};

/**
 * Sends key-set requests for some URIs elsewhere (JWKS_URI): CognitoJwtVerifier always derives
 * the URI from the pool id, so the override has to sit below it, in the cache.
 */
export class RedirectingJwksCache implements JwksCache {
  constructor(
    private readonly inner: JwksCache,
    private readonly redirects: ReadonlyMap<string, string>,
  ) {}
  private to(uri: string): string {
    return this.redirects.get(uri) ?? uri;
  }
  getJwk(uri: string, jwt: Parameters<JwksCache["getJwk"]>[1]) {
    return this.inner.getJwk(this.to(uri), jwt);
  }
  getCachedJwk(uri: string, jwt: Parameters<JwksCache["getCachedJwk"]>[1]) {
    return this.inner.getCachedJwk(this.to(uri), jwt);
  }
  addJwks(uri: string, jwks: Jwks) {
    this.inner.addJwks(this.to(uri), jwks);
  }
  getJwks(uri: string) {
    return this.inner.getJwks(this.to(uri));
  }
}

/** A key set is a few KB (Cognito's is ~1 KB); anything this large is a broken or hostile endpoint. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/**
 * aws-jwt-verify's JWKS parsing plus two refusals, so that a broken endpoint is our failure (500)
 * and never replaces the cached keys: a body over MAX_JWKS_BYTES, and an empty key set (which would
 * otherwise turn every valid token into a 401 until the next successful fetch).
 */
export function parseJwks(body: ArrayBuffer): Jwks {
  if (body.byteLength > MAX_JWKS_BYTES) {
    throw new JwksValidationError(`JWKS response is ${body.byteLength} bytes; more than ${MAX_JWKS_BYTES} is refused`);
  }
  let jwks: unknown;
  try {
    jwks = safeJsonParse(new TextDecoder("utf8", { fatal: true, ignoreBOM: true }).decode(body));
  } catch (err) {
    throw new JwksValidationError(`JWKS could not be parsed as JSON: ${(err as Error).message}`);
  }
  assertIsJwks(jwks as Parameters<typeof assertIsJwks>[0]);
  const parsed = jwks as Jwks;
  if (parsed.keys.length === 0) throw new JwksValidationError("JWKS has no keys");
  return parsed;
}

/**
 * After a failed key-set fetch, further fetches of that URI fail at once (our failure, 500) for this
 * long. aws-jwt-verify's penalty box only covers a `kid` missing from a fetched key set, so without
 * this, during an identity-provider outage every token with an unknown `kid` would hold an
 * invocation for the whole fetch deadline.
 */
export const RETRY_AFTER_FAILED_FETCH_MS = 1000;

/**
 * aws-jwt-verify's HTTPS fetch with its one immediate retry, but both attempts share one deadline of
 * `timeoutMs` (SimpleFetcher gives each attempt the full timeout, doubling the worst-case wait), and
 * a failed fetch closes that URI for `retryAfterFailureMs`.
 */
export class DeadlineFetcher implements Fetcher {
  private readonly closedUntil = new Map<string, number>();
  constructor(
    private readonly timeoutMs: number,
    private readonly options: Readonly<Record<string, unknown>> = {},
    private readonly retryAfterFailureMs = RETRY_AFTER_FAILED_FETCH_MS,
    private readonly now: () => number = Date.now,
  ) {}
  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    const started = this.now();
    const closed = this.closedUntil.get(uri);
    if (closed !== undefined && started < closed) {
      throw new FetchError(uri, `not retried for ${closed - started} ms after a failed fetch`);
    }
    const deadline = started + this.timeoutMs;
    const attempt = (ms: number) =>
      httpsFetch(uri, { ...this.options, ...requestOptions, timeout: ms, responseTimeout: ms }, data);
    try {
      try {
        return await attempt(this.timeoutMs);
      } catch (err) {
        const left = deadline - this.now();
        if (err instanceof NonRetryableFetchError || left < 1) throw err;
        return await attempt(left);
      }
    } catch (err) {
      if (this.retryAfterFailureMs > 0) this.closedUntil.set(uri, this.now() + this.retryAfterFailureMs);
      throw err;
    }
  }
}

export function defaultJwksCache(
  config: Config,
  fetchOptions: Readonly<Record<string, unknown>> = {},
  retryAfterFailureMs = RETRY_AFTER_FAILED_FETCH_MS,
): JwksCache {
  return new SimpleJwksCache({
    fetcher: new DeadlineFetcher(config.jwksFetchTimeoutMs, fetchOptions, retryAfterFailureMs),
    penaltyBox: new SimplePenaltyBox({ waitSeconds: config.jwksPenaltySeconds }),
    jwksParser: parseJwks,
  });
}

/** A claim this authorizer requires that aws-jwt-verify leaves optional (exp, iat, token_use for OIDC). */
export class RequiredClaimError extends JwtInvalidClaimError {}
registerErrorNames({ RequiredClaimError });

type ClaimCheck = (props: { header: JwtHeader; payload: JwtPayload }) => void;

/** Checks aws-jwt-verify leaves optional, run after the signature is verified. */
function commonChecks(graceSeconds: number, now: () => number): ClaimCheck {
  return ({ payload }) => {
    if (payload.exp === undefined) {
      throw new RequiredClaimError("Token has no exp claim", undefined, "a number");
    }
    if (payload.iat !== undefined && payload.iat - graceSeconds > now() / 1000) {
      throw new RequiredClaimError("Token issued in the future", payload.iat, "iat <= now");
    }
  };
}

/** OIDC audience check covering both shapes: `aud` (ID tokens) or `client_id` (Cognito-style access tokens). */
function oidcChecks(issuer: OidcIssuerConfig, common: ClaimCheck): ClaimCheck {
  const audiences = [...issuer.audiences];
  return (props) => {
    common(props);
    const { payload } = props;
    if (payload.aud !== undefined) {
      assertStringArraysOverlap("Audience", payload.aud, audiences, JwtInvalidAudienceError);
    } else {
      assertStringArrayContainsString("Client ID", payload.client_id, audiences, JwtInvalidAudienceError);
    }
    if (issuer.tokenUse !== undefined) {
      assertStringEquals("Token use", payload.token_use, issuer.tokenUse, RequiredClaimError);
    }
  };
}

type Verify = (token: string) => Promise<JwtPayload>;

/**
 * The `iss` claim of a token, read leniently and without validating anything else: it only picks
 * the verifier, which then validates the whole token (a malformed one fails there with the same
 * JwtParseError). Undefined when it cannot be read this way.
 */
export function quickIssuer(token: string): string | undefined {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), "base64url").toString("utf8"));
    const iss = typeof payload === "object" && payload !== null ? (payload as { iss?: unknown }).iss : undefined;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the aws-jwt-verify verifiers once (per container) and routes each token by its `iss`. */
export function createVerifier(config: Config, deps: VerifierDeps = {}): TokenVerifier {
  const now = deps.now ?? Date.now;
  const common = commonChecks(config.graceSeconds, now);
  const cognito = config.issuers.filter((i): i is CognitoIssuerConfig => i.kind === "cognito");
  const oidc = config.issuers.filter((i): i is OidcIssuerConfig => i.kind === "oidc");

  const redirects = new Map<string, string>();
  for (const pool of cognito) {
    if (pool.jwksUri) for (const iss of cognitoIssuers(pool.userPoolId)) redirects.set(`${iss}/.well-known/jwks.json`, pool.jwksUri);
  }
  const baseCache = deps.jwksCache ?? defaultJwksCache(config, deps.fetchOptions, deps.retryAfterFailureMs);
  const jwksCache = redirects.size > 0 ? new RedirectingJwksCache(baseCache, redirects) : baseCache;

  const byIssuer = new Map<string, Verify>();
  const hydrators: (() => Promise<void>)[] = [];

  if (cognito.length > 0) {
    const verifier = CognitoJwtVerifier.create(
      cognito.map((pool) => ({
        userPoolId: pool.userPoolId,
        clientId: [...pool.clientIds],
        tokenUse: pool.tokenUse,
        graceSeconds: config.graceSeconds,
        customJwtCheck: common,
      })),
      { jwksCache },
    );
    const verify: Verify = (token) => verifier.verify(token);
    for (const pool of cognito) for (const iss of cognitoIssuers(pool.userPoolId)) byIssuer.set(iss, verify);
    hydrators.push(() => verifier.hydrate());
  }
  if (oidc.length > 0) {
    const verifier = JwtVerifier.create(
      oidc.map((issuer) => ({
        issuer: issuer.issuer,
        audience: null, // checked in oidcChecks, which also accepts client_id-shaped access tokens
        graceSeconds: config.graceSeconds,
        customJwtCheck: oidcChecks(issuer, common),
        ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}),
      })),
      { jwksCache },
    );
    const verify: Verify = (token) => verifier.verify(token);
    for (const issuer of oidc) byIssuer.set(issuer.issuer, verify);
    hydrators.push(() => verifier.hydrate());
  }

  return {
    async verify(token) {
      // A configured issuer goes straight to its verifier, which parses and validates the whole token
      // itself, so a token gets one full parse (aws-jwt-verify's) plus quickIssuer's decode of the
      // payload, instead of two full parses (measured with `npm run bench`).
      const quick = quickIssuer(token);
      const routed = quick === undefined ? undefined : byIssuer.get(quick);
      if (routed) return routed(token);
      // Anything else is parsed fully here (cheap, no crypto), so garbage gets aws-jwt-verify's own
      // parse errors and a foreign issuer UnknownIssuerError, before any key lookup.
      const { payload } = decomposeUnverifiedJwt(token);
      const verify = payload.iss === undefined ? undefined : byIssuer.get(payload.iss);
      if (!verify) throw new UnknownIssuerError("token issuer is not configured");
      return verify(token);
    },
    async hydrate() {
      const results = await Promise.allSettled(hydrators.map((h) => h()));
      return results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    },
  };
}
