/**
 * Key sets: fetching (streamed, byte-limited, one shared deadline, HTTPS only), parsing, and the
 * cache that refreshes them after their max-age. Laid out like aws-jwt-verify's own jwk/https
 * modules, and plugged into it through its JwksCache and Fetcher interfaces.
 */
import { request } from "node:https";
import { FetchError, JwksNotAvailableInCacheError, JwksValidationError, JwtWithoutValidKidError, KidNotFoundInJwksError, NonRetryableFetchError } from "aws-jwt-verify/error";
import type { Fetcher } from "aws-jwt-verify/https";
import { assertIsJwks, findJwkInJwks, type Jwks, type JwksCache, type JwksParser, type JwkWithKid, type PenaltyBox, SimplePenaltyBox } from "aws-jwt-verify/jwk";
import { safeJsonParse } from "aws-jwt-verify/safe-json-parse";
import { AuthorizerError } from "./errors";

type DecomposedJwt = Parameters<JwksCache["getJwk"]>[1];

/** A key set is a few KB (Cognito's is ~1 KB); anything this large is a broken or hostile endpoint. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/**
 * After a failed key-set fetch, further fetches of that URI fail at once (our failure, 500) for this
 * long. aws-jwt-verify's penalty box only covers a `kid` missing from a fetched key set, so without
 * this, during an identity-provider outage every token with an unknown `kid` would hold an
 * invocation for the whole fetch deadline.
 */
export const RETRY_AFTER_FAILED_FETCH_MS = 1000;

/** After a failed refresh, the next one is tried after this long (or the max-age, if shorter). */
export const REFRESH_RETRY_MS = 30_000;

/** How many kids (with their keys) a key-set URI's record of served keys holds before it restarts. */
export const MAX_SEEN_KIDS = 1000;

/** A Cache-Control max-age below this is raised to it, so that no header can make every request a fetch. */
export const MIN_HEADER_MAX_AGE_SECONDS = 60;

/** The key-set body is larger than MAX_JWKS_BYTES: our failure (500); the download is abandoned at the limit. */
export class JwksTooLargeError extends AuthorizerError {
  override readonly name = "JwksTooLargeError";
  readonly decision = "Error";
}

/**
 * aws-jwt-verify's JWKS parsing plus two refusals, so that a broken endpoint is our failure (500)
 * and never replaces the cached keys: a body over MAX_JWKS_BYTES, and an empty key set (which would
 * otherwise turn every valid token into a 401 until the next successful fetch).
 */
export function parseJwks(body: ArrayBuffer): Jwks {
  if (body.byteLength > MAX_JWKS_BYTES) {
    throw new JwksTooLargeError(`JWKS response is ${body.byteLength} bytes; more than ${MAX_JWKS_BYTES} is refused`);
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
  getJwk(uri: string, jwt: DecomposedJwt) {
    return this.inner.getJwk(this.to(uri), jwt);
  }
  getCachedJwk(uri: string, jwt: DecomposedJwt) {
    return this.inner.getCachedJwk(this.to(uri), jwt);
  }
  addJwks(uri: string, jwks: Jwks) {
    this.inner.addJwks(this.to(uri), jwks);
  }
  getJwks(uri: string) {
    return this.inner.getJwks(this.to(uri));
  }
}

// ---------------------------------------------------------------------------------------------
// Fetching

/** One HTTP response as the fetcher reads it: the body is pulled chunk by chunk. */
export interface HttpsResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: AsyncIterable<Uint8Array>;
  /** Abandons the response (and its connection); called once the fetcher is done with it, whatever happened. */
  close(): void;
}

/** One GET, no retry, no limit: the transport under StreamingFetcher (tests hand in a fake). */
export type HttpsGet = (uri: string, options: { readonly signal: AbortSignal; readonly requestOptions: Readonly<Record<string, unknown>> }) => Promise<HttpsResponse>;

/** The default transport: node:https, aborted through the signal. */
export const httpsGet: HttpsGet = (uri, { signal, requestOptions }) =>
  new Promise((resolve, reject) => {
    const req = request(uri, { ...requestOptions, method: "GET", signal }, (res) => {
      res.on("error", () => undefined); // surfaced to the reader through the async iterator
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res, close: () => req.destroy() });
    });
    req.on("error", reject);
    req.end();
  });

/** A fetched key-set body, with the max-age its response allowed (Cache-Control), if any. */
export interface FetchedKeySet {
  readonly body: ArrayBuffer;
  readonly maxAgeSeconds?: number;
}

/** What RefreshingJwksCache needs from a fetcher: the body, and how long it may be kept. */
export interface KeySetFetcher {
  fetchKeySet(uri: string): Promise<FetchedKeySet>;
}

/** `max-age` of a Cache-Control header, in seconds; undefined when absent or malformed. */
export function cacheControlMaxAge(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header.join(",") : header;
  const match = value === undefined ? null : /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(value);
  return match ? Number(match[1]) : undefined;
}

export interface StreamingFetcherOptions {
  /** The deadline of one fetch, its one immediate retry included. */
  readonly timeoutMs: number;
  /** The body is abandoned as soon as it passes this many bytes. */
  readonly maxBytes?: number;
  /** How long a failed fetch closes its URI (see RETRY_AFTER_FAILED_FETCH_MS); 0 turns it off. */
  readonly retryAfterFailureMs?: number;
  /** Extra `https.request` options (tests pass their local CA as `ca`); never the method or protocol. */
  readonly requestOptions?: Readonly<Record<string, unknown>>;
  readonly get?: HttpsGet;
  /** Milliseconds; only differences matter. */
  readonly now?: () => number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  readonly setTimer?: (fn: () => void, ms: number) => () => void;
}

const realTimer = (fn: () => void, ms: number): (() => void) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * aws-jwt-verify's Fetcher, streaming: the body is read chunk by chunk and abandoned once it
 * passes `maxBytes` (or at once when Content-Length says it will), so an oversized key set never
 * sits in memory. Like aws-jwt-verify's SimpleFetcher it retries once, immediately, except after a
 * status other than 200 or an oversized body; unlike it, both attempts share one deadline of
 * `timeoutMs`, and a failed fetch closes that URI for `retryAfterFailureMs`. `https:` only.
 */
export class StreamingFetcher implements Fetcher, KeySetFetcher {
  private readonly closedUntil = new Map<string, number>();
  private readonly maxBytes: number;
  private readonly retryAfterFailureMs: number;
  private readonly get: HttpsGet;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly options: StreamingFetcherOptions) {
    this.maxBytes = options.maxBytes ?? MAX_JWKS_BYTES;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? RETRY_AFTER_FAILED_FETCH_MS;
    this.get = options.get ?? httpsGet;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? realTimer;
  }

  /** aws-jwt-verify's Fetcher interface (a GET; `data` is not supported and refused). */
  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    if (data !== undefined) throw new NonRetryableFetchError(uri, "only GET is supported");
    return (await this.fetchKeySet(uri, requestOptions)).body;
  }

  async fetchKeySet(uri: string, requestOptions: Readonly<Record<string, unknown>> = {}): Promise<FetchedKeySet> {
    if (!uri.startsWith("https://")) throw new NonRetryableFetchError(uri, "only https:// key-set URLs are fetched");
    const started = this.now();
    const closed = this.closedUntil.get(uri);
    if (closed !== undefined && started < closed) {
      throw new FetchError(uri, `not retried for ${closed - started} ms after a failed fetch`);
    }
    const deadline = new AbortController();
    const cancel = this.setTimer(() => deadline.abort(), this.options.timeoutMs);
    const options = { ...this.options.requestOptions, ...requestOptions };
    try {
      try {
        return await this.attempt(uri, options, deadline.signal);
      } catch (err) {
        if (err instanceof NonRetryableFetchError || err instanceof JwksTooLargeError || deadline.signal.aborted) throw err;
        return await this.attempt(uri, options, deadline.signal);
      }
    } catch (err) {
      if (this.retryAfterFailureMs > 0) this.closedUntil.set(uri, this.now() + this.retryAfterFailureMs);
      if (deadline.signal.aborted) throw new FetchError(uri, `no complete response within ${this.options.timeoutMs} ms`);
      throw err instanceof FetchError || err instanceof JwksTooLargeError ? err : new FetchError(uri, (err as Error)?.message);
    } finally {
      cancel();
    }
  }

  private async attempt(uri: string, requestOptions: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<FetchedKeySet> {
    const response = await this.get(uri, { signal, requestOptions });
    try {
      if (response.statusCode !== 200) {
        throw new NonRetryableFetchError(uri, `Status code is ${response.statusCode}, expected 200`);
      }
      const declared = Number(response.headers["content-length"]);
      if (declared > this.maxBytes) {
        throw new JwksTooLargeError(`JWKS response declares ${declared} bytes; more than ${this.maxBytes} is refused`);
      }
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of response.body) {
        total += chunk.byteLength;
        if (total > this.maxBytes) throw new JwksTooLargeError(`JWKS response passed ${this.maxBytes} bytes; refused without reading the rest`);
        chunks.push(chunk);
      }
      const body = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      const maxAgeSeconds = cacheControlMaxAge(response.headers["cache-control"]);
      return { body: body.buffer, ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }) };
    } finally {
      response.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Caching

/** A refresh that failed while the cached keys were kept (within the grace). */
export interface RefreshFailure {
  readonly uri: string;
  readonly error: unknown;
  /** How long the kept keys have been past their max-age, in ms. */
  readonly staleForMs: number;
  /** How much longer they will be used if every refresh keeps failing, in ms. */
  readonly graceLeftMs: number;
}

export interface RefreshingJwksCacheOptions {
  readonly fetcher: KeySetFetcher;
  /** How long a fetched key set is used before it is fetched again (a shorter Cache-Control max-age wins). */
  readonly maxAgeMs: number;
  /** How long past its max-age a key set stays in use while every refresh fails. */
  readonly staleGraceMs: number;
  readonly penaltyBox?: PenaltyBox;
  readonly parser?: JwksParser;
  /** Milliseconds; only differences matter. */
  readonly now?: () => number;
  /** Told about every failed refresh whose keys were kept (to be logged and counted). */
  readonly onRefreshFailure?: (failure: RefreshFailure) => void;
  /** Told when a fetched key set gives a `kid` other key material than it had before (in any earlier set). */
  readonly onKeysReplaced?: (uri: string, jwks: Jwks) => void;
}

interface CachedKeySet {
  readonly jwks: Jwks;
  /** From then on, the next lookup refreshes the set first. */
  refreshAt: number;
  /** From then on, the set is not used at all. */
  readonly expiresAt: number;
}

interface Refreshed {
  readonly set: CachedKeySet;
  /** Why the refresh failed (the set is then the stale one, kept). */
  readonly error?: unknown;
}


/**
 * aws-jwt-verify's JwksCache (it behaves like its SimpleJwksCache for unknown `kid`s: one fetch,
 * then the penalty box), plus a max-age. The first lookup after a set's max-age refreshes it: one
 * bounded fetch, shared by concurrent lookups. A refreshed set replaces the old one, so a `kid` it
 * no longer has is unknown (401). A refresh that fails keeps the old set, for at most `staleGraceMs`
 * past its max-age, and is retried after REFRESH_RETRY_MS (or the max-age, if shorter).
 */
export class RefreshingJwksCache implements JwksCache {
  private readonly sets = new Map<string, CachedKeySet>();
  private readonly fetching = new Map<string, Promise<Jwks>>();
  private readonly refreshing = new Map<string, Promise<Refreshed>>();
  private readonly seen = new Map<string, Map<string, string>>();
  private readonly penaltyBox: PenaltyBox;
  private readonly parser: JwksParser;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingJwksCacheOptions) {
    this.penaltyBox = options.penaltyBox ?? new SimplePenaltyBox();
    this.parser = options.parser ?? parseJwks;
    this.now = options.now ?? Date.now;
  }

  addJwks(uri: string, jwks: Jwks): void {
    if (this.sets.get(uri)?.jwks === jwks) return; // already cached: keep its max-age
    this.store(uri, jwks, undefined);
  }

  /** Fetches the set (one fetch per URI at a time) and caches it. */
  getJwks(uri: string): Promise<Jwks> {
    let pending = this.fetching.get(uri);
    if (!pending) {
      pending = this.load(uri).finally(() => this.fetching.delete(uri));
      this.fetching.set(uri, pending);
    }
    return pending;
  }

  /**
   * A key of a fresh cached set, for aws-jwt-verify's verifySync. A set that is due for its refresh
   * (past its max-age) counts as not available, so that the caller takes the async path (getJwk),
   * which refreshes it: a synchronous lookup never keeps a set past its max-age.
   */
  getCachedJwk(uri: string, jwt: DecomposedJwt): JwkWithKid {
    const kid = kidOf(jwt);
    const set = this.usable(uri);
    if (!set || this.now() >= set.refreshAt) throw new JwksNotAvailableInCacheError(`JWKS for uri ${uri} not available in cache`);
    return found(set.jwks, kid);
  }

  async getJwk(uri: string, jwt: DecomposedJwt): Promise<JwkWithKid> {
    const kid = kidOf(jwt);
    const set = this.usable(uri);
    if (set && this.now() >= set.refreshAt) {
      const refreshed = await this.refresh(uri, set);
      const jwk = findJwkInJwks(refreshed.set.jwks, kid);
      if (jwk) return jwk;
      // The refresh failed and the kept set lacks the kid: the key set is unavailable (our failure).
      if (refreshed.error !== undefined) throw refreshed.error;
      // Just fetched: a kid missing from it is unknown, whether it was cached before or not.
      this.penaltyBox.registerFailedAttempt(uri, kid);
      throw kidNotFound(kid);
    }
    const cached = set && findJwkInJwks(set.jwks, kid);
    if (cached) return cached;
    // As aws-jwt-verify's SimpleJwksCache: an unknown kid fetches the set once, then waits out the
    // penalty. Without a usable set (never fetched, or past its grace) there is nothing to wait on:
    // every kid is unknown then, the valid ones too, so the set is fetched (failures are bounded by
    // the fetcher's retry window).
    if (set) await this.penaltyBox.wait(uri, kid);
    const jwks = await this.getJwks(uri);
    const jwk = findJwkInJwks(jwks, kid);
    if (!jwk) {
      this.penaltyBox.registerFailedAttempt(uri, kid);
      throw kidNotFound(kid);
    }
    this.penaltyBox.registerSuccessfulAttempt(uri, kid);
    return jwk;
  }

  private async load(uri: string): Promise<Jwks> {
    const fetched = await this.options.fetcher.fetchKeySet(uri);
    const jwks = this.parser(fetched.body);
    this.store(uri, jwks, fetched.maxAgeSeconds);
    // Every kid this URI served, with its key: aws-jwt-verify's key objects outlive the sets. Past
    // MAX_SEEN_KIDS (a hostile endpoint) the record restarts, and the key objects are dropped too.
    let seen = this.seen.get(uri);
    let replaced = seen !== undefined && seen.size + jwks.keys.length > MAX_SEEN_KIDS;
    if (!seen || replaced) this.seen.set(uri, (seen = new Map()));
    for (const key of jwks.keys) {
      if (typeof key.kid !== "string") continue;
      const material = JSON.stringify(key);
      const before = seen.get(key.kid);
      if (before !== undefined && before !== material) replaced = true;
      seen.set(key.kid, material);
    }
    if (replaced && this.options.onKeysReplaced) {
      try {
        this.options.onKeysReplaced(uri, jwks);
      } catch {
        // Never fails the fetch; the new set is cached either way.
      }
    }
    return jwks;
  }

  private store(uri: string, jwks: Jwks, headerMaxAgeSeconds: number | undefined): void {
    const maxAgeMs =
      headerMaxAgeSeconds === undefined
        ? this.options.maxAgeMs
        : Math.min(this.options.maxAgeMs, Math.max(headerMaxAgeSeconds, MIN_HEADER_MAX_AGE_SECONDS) * 1000);
    const now = this.now();
    this.sets.set(uri, { jwks, refreshAt: now + maxAgeMs, expiresAt: now + maxAgeMs + this.options.staleGraceMs });
  }

  /**
   * The cached set, unless it is past its grace. An expired set is not used but stays as the base
   * that the next fetched set is compared with (onKeysReplaced).
   */
  private usable(uri: string): CachedKeySet | undefined {
    const set = this.sets.get(uri);
    return set && this.now() < set.expiresAt ? set : undefined;
  }

  /** Resolves to the refreshed set, or to `stale` itself with the error when the refresh failed within the grace. */
  private refresh(uri: string, stale: CachedKeySet): Promise<Refreshed> {
    let pending = this.refreshing.get(uri);
    if (!pending) {
      pending = this.getJwks(uri)
        .then((): Refreshed => ({ set: this.sets.get(uri) ?? stale }), (error: unknown): Refreshed => ({ set: this.keep(uri, stale, error), error }))
        .finally(() => this.refreshing.delete(uri));
      this.refreshing.set(uri, pending);
    }
    return pending;
  }

  private keep(uri: string, stale: CachedKeySet, error: unknown): CachedKeySet {
    const now = this.now();
    if (now >= stale.expiresAt) throw error; // past its grace: no longer used
    stale.refreshAt = now + Math.min(REFRESH_RETRY_MS, this.options.maxAgeMs);
    const staleForMs = now - (stale.expiresAt - this.options.staleGraceMs);
    this.options.onRefreshFailure?.({ uri, error, staleForMs, graceLeftMs: stale.expiresAt - now });
    return stale;
  }
}

export interface JwksCacheSettings {
  readonly fetchTimeoutMs: number;
  readonly maxAgeMs: number;
  readonly staleGraceMs: number;
  /** aws-jwt-verify's penalty box for unknown kids. */
  readonly penaltySeconds: number;
  readonly requestOptions?: Readonly<Record<string, unknown>>;
  readonly retryAfterFailureMs?: number;
  readonly get?: HttpsGet;
  readonly now?: () => number;
  readonly onRefreshFailure?: (failure: RefreshFailure) => void;
  readonly onKeysReplaced?: (uri: string, jwks: Jwks) => void;
}

/** The production key-set cache: a RefreshingJwksCache over a StreamingFetcher and aws-jwt-verify's penalty box. */
export function createJwksCache(settings: JwksCacheSettings): RefreshingJwksCache {
  return new RefreshingJwksCache({
    fetcher: new StreamingFetcher({
      timeoutMs: settings.fetchTimeoutMs,
      requestOptions: settings.requestOptions,
      retryAfterFailureMs: settings.retryAfterFailureMs,
      get: settings.get,
    }),
    maxAgeMs: settings.maxAgeMs,
    staleGraceMs: settings.staleGraceMs,
    penaltyBox: new SimplePenaltyBox({ waitSeconds: settings.penaltySeconds }),
    now: settings.now,
    onRefreshFailure: settings.onRefreshFailure,
    onKeysReplaced: settings.onKeysReplaced,
  });
}

function kidOf(jwt: DecomposedJwt): string {
  const kid = jwt.header.kid;
  if (typeof kid !== "string") throw new JwtWithoutValidKidError("JWT header does not have valid kid claim");
  return kid;
}

const kidNotFound = (kid: string) => new KidNotFoundInJwksError(`JWK for kid "${kid}" not found in the JWKS`);

function found(jwks: Jwks, kid: string): JwkWithKid {
  const jwk = findJwkInJwks(jwks, kid);
  if (!jwk) throw kidNotFound(kid);
  return jwk;
}
