/**
 * src/jwks.ts in isolation: a fake transport and a fake key-set fetcher that count their calls, a
 * fake clock and a fake timer. No network, no sleeps.
 */
import { FetchError, JwksNotAvailableInCacheError, JwksValidationError, KidNotFoundInJwksError, NonRetryableFetchError, WaitPeriodNotYetEndedJwkError } from "aws-jwt-verify/error";
import { type Jwks, type JwksCache, SimplePenaltyBox } from "aws-jwt-verify/jwk";
import {
  cacheControlMaxAge,
  type FetchedKeySet,
  type HttpsGet,
  type HttpsResponse,
  JwksTooLargeError,
  type KeySetFetcher,
  MAX_JWKS_BYTES,
  MAX_SEEN_KIDS,
  MIN_HEADER_MAX_AGE_SECONDS,
  parseJwks,
  RedirectingJwksCache,
  REFRESH_RETRY_MS,
  type RefreshFailure,
  RefreshingJwksCache,
  RETRY_AFTER_FAILED_FETCH_MS,
  StreamingFetcher,
} from "../src/jwks";

const URI = "https://idp.example.test/.well-known/jwks.json";
const encode = (value: unknown): ArrayBuffer => new TextEncoder().encode(JSON.stringify(value)).buffer as ArrayBuffer;
const jwk = (kid: string, n = `modulus-of-${kid}`) => ({ kty: "RSA", kid, alg: "RS256", use: "sig", n, e: "AQAB" });
const jwt = (kid: unknown) => ({ header: { alg: "RS256", kid }, payload: {} }) as Parameters<JwksCache["getJwk"]>[1];

/** A fake clock in ms, and a fake timer that fires when the clock is advanced past it. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers) {
        if (!t.cancelled && t.at <= now) {
          t.cancelled = true;
          t.fn();
        }
      }
    },
    timers,
  };
}

/** A fake transport: each call takes the next scripted answer; counts calls, chunks pulled and closes. */
function fakeGet(script: ((signal: AbortSignal) => Promise<HttpsResponse>)[]) {
  const stats = { calls: 0, uris: [] as string[], options: [] as Record<string, unknown>[] };
  const get: HttpsGet = (uri, { signal, requestOptions }) => {
    stats.calls += 1;
    stats.uris.push(uri);
    stats.options.push({ ...requestOptions });
    const next = script[Math.min(stats.calls - 1, script.length - 1)];
    return next(signal);
  };
  return { get, stats };
}

function response(body: Uint8Array[] | AsyncIterable<Uint8Array>, init: { status?: number; headers?: Record<string, string> } = {}) {
  const counters = { pulled: 0, closed: 0 };
  const chunks = body;
  const iterable: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
        counters.pulled += 1;
        yield chunk;
      }
    },
  };
  const res: HttpsResponse = { statusCode: init.status ?? 200, headers: init.headers ?? {}, body: iterable, close: () => (counters.closed += 1) };
  return { res, counters };
}

/** A 40 MiB body in 64 KiB chunks. */
async function* endless(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 640; i += 1) yield new Uint8Array(64 * 1024);
}

/** A transport call that only ends when its signal aborts (a hung server). */
const hang = (signal: AbortSignal) =>
  new Promise<HttpsResponse>((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));

describe("parseJwks", () => {
  it.each<[string, ArrayBuffer, unknown]>([
    ["a body over the limit", new ArrayBuffer(MAX_JWKS_BYTES + 1), JwksTooLargeError],
    ["a body that is not JSON", new TextEncoder().encode("<html>").buffer as ArrayBuffer, JwksValidationError],
    ["JSON without keys", encode({ issuer: "x" }), JwksValidationError],
    ["an empty key set", encode({ keys: [] }), JwksValidationError],
  ])("refuses %s", (_case, body, error) => {
    expect(() => parseJwks(body)).toThrow(error as new () => Error);
  });

  it("returns a valid key set", () => {
    expect(parseJwks(encode({ keys: [jwk("a")] })).keys).toEqual([jwk("a")]);
  });
});

describe("cacheControlMaxAge", () => {
  it.each<[string | string[] | undefined, number | undefined]>([
    [undefined, undefined],
    ["public, max-age=300", 300],
    ["max-age=0", 0],
    ['max-age="120", must-revalidate', 120],
    [["no-transform", "max-age=45"], 45],
    ["s-maxage=10", undefined],
    ["max-age=abc", undefined],
    ["no-cache", undefined],
  ])("%j → %j", (header, expected) => {
    expect(cacheControlMaxAge(header)).toBe(expected);
  });
});

describe("StreamingFetcher", () => {
  const fetcher = (get: HttpsGet, time = fakeTime(), extra: Partial<ConstructorParameters<typeof StreamingFetcher>[0]> = {}) =>
    new StreamingFetcher({ timeoutMs: 500, get, now: time.now, setTimer: time.setTimer, ...extra });

  it("returns the body and the Cache-Control max-age, with one GET and the response closed", async () => {
    const body = new TextEncoder().encode('{"keys":[]}');
    const { res, counters } = response([body.slice(0, 4), body.slice(4)], { headers: { "cache-control": "max-age=120" } });
    const { get, stats } = fakeGet([async () => res]);
    const fetched = await fetcher(get, fakeTime(), { requestOptions: { ca: "test-ca" } }).fetchKeySet(URI);
    expect(new TextDecoder().decode(fetched.body)).toBe('{"keys":[]}');
    expect(fetched.maxAgeSeconds).toBe(120);
    expect(stats).toMatchObject({ calls: 1, uris: [URI], options: [{ ca: "test-ca" }] });
    expect(counters).toEqual({ pulled: 2, closed: 1 });
  });

  it("implements aws-jwt-verify's Fetcher: fetch() resolves to the body alone, and refuses a request body", async () => {
    const { res } = response([new TextEncoder().encode("{}")]);
    const { get, stats } = fakeGet([async () => res]);
    const f = fetcher(get);
    expect(new TextDecoder().decode(await f.fetch(URI))).toBe("{}");
    await expect(f.fetch(URI, {}, new ArrayBuffer(1))).rejects.toBeInstanceOf(NonRetryableFetchError);
    expect(stats.calls).toBe(1);
  });

  it("stops reading a body as soon as it passes the limit, and does not retry", async () => {
    const { res, counters } = response(endless());
    const { get, stats } = fakeGet([async () => res]);
    await expect(fetcher(get).fetchKeySet(URI)).rejects.toBeInstanceOf(JwksTooLargeError);
    // 1 MiB in 64 KiB chunks: the 17th chunk passes the limit; nothing after it is pulled.
    expect(counters.pulled).toBe(MAX_JWKS_BYTES / (64 * 1024) + 1);
    expect(counters.closed).toBe(1);
    expect(stats.calls).toBe(1);
  });

  it("refuses a declared Content-Length over the limit without reading the body", async () => {
    const { res, counters } = response(endless(), { headers: { "content-length": String(40 * 1024 * 1024) } });
    const { get } = fakeGet([async () => res]);
    await expect(fetcher(get).fetchKeySet(URI)).rejects.toBeInstanceOf(JwksTooLargeError);
    expect(counters).toEqual({ pulled: 0, closed: 1 });
  });

  it("honours a smaller maxBytes", async () => {
    const { res } = response([new Uint8Array(10), new Uint8Array(10)]);
    const { get } = fakeGet([async () => res]);
    await expect(fetcher(get, fakeTime(), { maxBytes: 15 }).fetchKeySet(URI)).rejects.toBeInstanceOf(JwksTooLargeError);
  });

  it("does not retry a status other than 200", async () => {
    const { res, counters } = response([], { status: 503 });
    const { get, stats } = fakeGet([async () => res]);
    await expect(fetcher(get).fetchKeySet(URI)).rejects.toThrow(/Status code is 503/);
    expect(stats.calls).toBe(1);
    expect(counters.closed).toBe(1);
  });

  it("retries a transport error once, then closes the URI for the retry window", async () => {
    const time = fakeTime();
    const { get, stats } = fakeGet([
      async () => {
        throw new Error("ECONNREFUSED");
      },
    ]);
    const f = fetcher(get, time);
    await expect(f.fetchKeySet(URI)).rejects.toBeInstanceOf(FetchError);
    expect(stats.calls).toBe(2);
    // Within the window: a fast failure, no request.
    time.advance(RETRY_AFTER_FAILED_FETCH_MS - 1);
    await expect(f.fetchKeySet(URI)).rejects.toThrow(/not retried for 1 ms/);
    expect(stats.calls).toBe(2);
    // After it: fetched again.
    time.advance(1);
    await expect(f.fetchKeySet(URI)).rejects.toBeInstanceOf(FetchError);
    expect(stats.calls).toBe(4);
  });

  it("succeeds on the retry when the first attempt fails", async () => {
    const { res } = response([new TextEncoder().encode("{}")]);
    const { get, stats } = fakeGet([
      async () => {
        throw new Error("socket hang up");
      },
      async () => res,
    ]);
    expect(new TextDecoder().decode((await fetcher(get).fetchKeySet(URI)).body)).toBe("{}");
    expect(stats.calls).toBe(2);
  });

  it("gives both attempts one deadline: a hung retry fails when the first deadline passes, with no third attempt", async () => {
    const time = fakeTime();
    const { get, stats } = fakeGet([
      async () => {
        throw new Error("ECONNRESET");
      },
      hang,
    ]);
    const pending = fetcher(get, time).fetchKeySet(URI);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stats.calls).toBe(2);
    expect(time.timers.map((t) => t.at - 1_000_000)).toEqual([500]); // one deadline for the whole fetch
    time.advance(500);
    await expect(pending).rejects.toThrow(/no complete response within 500 ms/);
    expect(stats.calls).toBe(2);
  });

  it("aborts a body that stalls mid-way at the deadline", async () => {
    const time = fakeTime();
    const { get } = fakeGet([
      async (signal) =>
        response({
          async *[Symbol.asyncIterator]() {
            yield new Uint8Array(10);
            await hang(signal);
          },
        }).res,
    ]);
    const pending = fetcher(get, time).fetchKeySet(URI);
    await new Promise((resolve) => setImmediate(resolve));
    time.advance(500);
    await expect(pending).rejects.toBeInstanceOf(FetchError);
  });

  it("cancels its deadline timer once done", async () => {
    const time = fakeTime();
    const { res } = response([new TextEncoder().encode("{}")]);
    await fetcher(fakeGet([async () => res]).get, time).fetchKeySet(URI);
    expect(time.timers.every((t) => t.cancelled)).toBe(true);
  });

  it("fetches https:// only, without calling the transport otherwise", async () => {
    const { get, stats } = fakeGet([hang]);
    await expect(fetcher(get).fetchKeySet("http://idp.example.test/jwks.json")).rejects.toBeInstanceOf(NonRetryableFetchError);
    expect(stats.calls).toBe(0);
  });
});

/** A fake key-set fetcher serving whatever `keys` holds (or failing), counting calls. */
function fakeKeySets(initial: Record<string, unknown>[]) {
  const state = {
    keys: initial,
    fail: undefined as Error | undefined,
    headerMaxAge: undefined as number | undefined,
    calls: 0,
    /** Calls still waiting for `release`. */
    held: [] as (() => void)[],
    hold: false,
  };
  const fetcher: KeySetFetcher = {
    async fetchKeySet(): Promise<FetchedKeySet> {
      state.calls += 1;
      if (state.hold) await new Promise<void>((resolve) => state.held.push(resolve));
      if (state.fail) throw state.fail;
      return { body: encode({ keys: state.keys }), ...(state.headerMaxAge === undefined ? {} : { maxAgeSeconds: state.headerMaxAge }) };
    },
  };
  return { fetcher, state };
}

describe("RefreshingJwksCache", () => {
  const MAX_AGE_MS = 2000; // JWKS_MAX_AGE_SECONDS=2
  const GRACE_MS = 10_000;

  function setup(options: Partial<ConstructorParameters<typeof RefreshingJwksCache>[0]> = {}) {
    const time = fakeTime();
    const sets = fakeKeySets([jwk("k1"), jwk("k2")]);
    const failures: RefreshFailure[] = [];
    const replaced: string[] = [];
    const cache = new RefreshingJwksCache({
      fetcher: sets.fetcher,
      maxAgeMs: MAX_AGE_MS,
      staleGraceMs: GRACE_MS,
      now: time.now,
      penaltyBox: new SimplePenaltyBox({ waitSeconds: 10 }),
      onRefreshFailure: (f) => failures.push(f),
      onKeysReplaced: (uri) => replaced.push(uri),
      ...options,
    });
    return { time, sets, cache, failures, replaced };
  }

  it("fetches a key set once and answers from it while it is fresh", async () => {
    const { cache, sets, time } = setup();
    expect((await cache.getJwk(URI, jwt("k1"))).kid).toBe("k1");
    time.advance(MAX_AGE_MS - 1);
    expect((await cache.getJwk(URI, jwt("k2"))).kid).toBe("k2");
    expect(cache.getCachedJwk(URI, jwt("k1")).kid).toBe("k1");
    expect(sets.state.calls).toBe(1);
  });

  it("answers synchronously (getCachedJwk, for verifySync) only from a fresh set: one due for refresh sends the caller to getJwk", async () => {
    const { cache, sets, time } = setup();
    await cache.getJwks(URI);
    time.advance(MAX_AGE_MS - 1);
    expect(cache.getCachedJwk(URI, jwt("k1")).kid).toBe("k1");
    time.advance(1);
    expect(() => cache.getCachedJwk(URI, jwt("k1"))).toThrow(JwksNotAvailableInCacheError);
    expect((await cache.getJwk(URI, jwt("k1"))).kid).toBe("k1");
    expect(sets.state.calls).toBe(2);
    expect(cache.getCachedJwk(URI, jwt("k1")).kid).toBe("k1");
  });

  it("refreshes after the max-age with one fetch, shared by concurrent lookups", async () => {
    const { cache, sets, time } = setup();
    await cache.getJwks(URI);
    time.advance(MAX_AGE_MS);
    const found = await Promise.all([cache.getJwk(URI, jwt("k1")), cache.getJwk(URI, jwt("k2")), cache.getJwk(URI, jwt("k1"))]);
    expect(found.map((j) => j.kid)).toEqual(["k1", "k2", "k1"]);
    expect(sets.state.calls).toBe(2);
    // Fresh again: no further fetch.
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(2);
  });

  it("treats a kid removed from the refreshed set as unknown (401), and starts the penalty", async () => {
    const { cache, sets, time } = setup();
    await cache.getJwk(URI, jwt("k1"));
    sets.state.keys = [jwk("k2")];
    time.advance(MAX_AGE_MS);
    await expect(cache.getJwk(URI, jwt("k1"))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(sets.state.calls).toBe(2);
    // The penalty box now blocks another fetch for an unknown kid; the kept kid still verifies.
    await expect(cache.getJwk(URI, jwt("k1"))).rejects.toBeInstanceOf(WaitPeriodNotYetEndedJwkError);
    expect((await cache.getJwk(URI, jwt("k2"))).kid).toBe("k2");
    expect(sets.state.calls).toBe(2);
  });

  it("keeps the old keys when a refresh fails, reports it once, and retries after the retry interval", async () => {
    const { cache, sets, time, failures } = setup();
    await cache.getJwks(URI);
    sets.state.fail = new FetchError(URI, "ECONNREFUSED");
    time.advance(MAX_AGE_MS + 500);
    expect((await cache.getJwk(URI, jwt("k1"))).kid).toBe("k1");
    expect(sets.state.calls).toBe(2);
    expect(failures).toEqual([{ uri: URI, error: sets.state.fail, staleForMs: 500, graceLeftMs: GRACE_MS - 500 }]);
    // Within the retry interval (here the max-age, shorter than REFRESH_RETRY_MS): no fetch, no report.
    time.advance(Math.min(REFRESH_RETRY_MS, MAX_AGE_MS) - 1);
    await cache.getJwk(URI, jwt("k2"));
    expect(sets.state.calls).toBe(2);
    expect(failures).toHaveLength(1);
    // Then retried: it succeeds and the set is fresh again.
    sets.state.fail = undefined;
    time.advance(1);
    await cache.getJwk(URI, jwt("k2"));
    expect(sets.state.calls).toBe(3);
    expect(failures).toHaveLength(1);
  });

  it("an unknown kid during a failed refresh is the fetch failure (500), not a 401", async () => {
    const { cache, sets, time } = setup();
    await cache.getJwks(URI);
    sets.state.fail = new FetchError(URI, "ECONNREFUSED");
    time.advance(MAX_AGE_MS);
    await expect(cache.getJwk(URI, jwt("k9"))).rejects.toBe(sets.state.fail);
    expect(sets.state.calls).toBe(2);
  });

  it("stops using the old keys once the grace has passed: the fetch failure is the answer (500)", async () => {
    const { cache, sets, time, failures } = setup();
    await cache.getJwks(URI);
    sets.state.fail = new FetchError(URI, "ECONNREFUSED");
    time.advance(MAX_AGE_MS + GRACE_MS);
    await expect(cache.getJwk(URI, jwt("k1"))).rejects.toBe(sets.state.fail);
    expect(failures).toEqual([]);
    expect(() => cache.getCachedJwk(URI, jwt("k1"))).toThrow(JwksNotAvailableInCacheError);
    // The IdP is back: fetched afresh.
    sets.state.fail = undefined;
    expect((await cache.getJwk(URI, jwt("k1"))).kid).toBe("k1");
  });

  it("drops the old keys when a refresh that started within the grace fails after it", async () => {
    const { cache, sets, time, failures } = setup();
    await cache.getJwks(URI);
    time.advance(MAX_AGE_MS + GRACE_MS - 1);
    sets.state.hold = true;
    const pending = cache.getJwk(URI, jwt("k1"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sets.state.held).toHaveLength(1);
    time.advance(1);
    sets.state.fail = new FetchError(URI, "timed out");
    sets.state.held.forEach((release) => release());
    await expect(pending).rejects.toBe(sets.state.fail);
    expect(failures).toEqual([]);
    expect(() => cache.getCachedJwk(URI, jwt("k1"))).toThrow(JwksNotAvailableInCacheError);
  });

  it("fetches a set that is past its grace even while an unknown kid's penalty runs (a valid kid is not a 401)", async () => {
    const { cache, sets, time } = setup({ staleGraceMs: 0 });
    await cache.getJwks(URI);
    await expect(cache.getJwk(URI, jwt("k9"))).rejects.toBeInstanceOf(KidNotFoundInJwksError); // penalty: 10 s
    time.advance(MAX_AGE_MS); // the set is past its max-age and, with no grace, dropped
    expect((await cache.getJwk(URI, jwt("k1"))).kid).toBe("k1");
    expect(sets.state.calls).toBe(3);
  });

  it("honours a shorter Cache-Control max-age, never below the floor, and ignores a longer one", async () => {
    const maxAgeMs = 3600_000;
    const { cache, sets, time } = setup({ maxAgeMs });
    sets.state.headerMaxAge = 300;
    await cache.getJwks(URI);
    time.advance(299_999);
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(1);
    time.advance(1);
    sets.state.headerMaxAge = 0; // "max-age=0" counts as the floor
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(2);
    time.advance(MIN_HEADER_MAX_AGE_SECONDS * 1000 - 1);
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(2);
    time.advance(1);
    sets.state.headerMaxAge = 86_400; // longer than JWKS_MAX_AGE_SECONDS: the setting wins
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(3);
    time.advance(maxAgeMs);
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(4);
  });

  it("fetches an unknown kid once, as aws-jwt-verify's SimpleJwksCache does, then waits out the penalty", async () => {
    const { cache, sets } = setup();
    await cache.getJwks(URI);
    await expect(cache.getJwk(URI, jwt("k9"))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(cache.getJwk(URI, jwt("k8"))).rejects.toBeInstanceOf(WaitPeriodNotYetEndedJwkError);
    expect(sets.state.calls).toBe(2);
  });

  it("picks up a kid published after the set was cached with one fetch", async () => {
    const { cache, sets } = setup();
    await cache.getJwks(URI);
    sets.state.keys = [jwk("k1"), jwk("k3")];
    expect((await cache.getJwk(URI, jwt("k3"))).kid).toBe("k3");
    expect(sets.state.calls).toBe(2);
  });

  it("says when a fetched set maps a cached kid to other key material, and only then", async () => {
    const { cache, sets, time, replaced } = setup();
    await cache.getJwks(URI);
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k1"));
    expect(replaced).toEqual([]);
    sets.state.keys = [jwk("k1", "another-modulus"), jwk("k2")];
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k1"));
    expect(replaced).toEqual([URI]);
  });

  it("also compares a set fetched after the old one expired (past its grace)", async () => {
    const { cache, sets, time, replaced } = setup({ staleGraceMs: 0 });
    await cache.getJwks(URI);
    sets.state.keys = [jwk("k1", "another-modulus")];
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k1"));
    expect(replaced).toEqual([URI]);
  });

  it("also when a kid comes back with other material after a set without it", async () => {
    const { cache, sets, time, replaced } = setup();
    await cache.getJwks(URI);
    sets.state.keys = [jwk("k2")];
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k2"));
    sets.state.keys = [jwk("k1", "another-modulus"), jwk("k2")];
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k1"));
    expect(replaced).toEqual([URI]);
  });

  it("restarts its record of served kids past MAX_SEEN_KIDS, dropping the key objects to be safe", async () => {
    const { cache, sets, time, replaced } = setup();
    sets.state.keys = Array.from({ length: MAX_SEEN_KIDS }, (_, i) => jwk(`bulk-${i}`));
    await cache.getJwks(URI);
    expect(replaced).toEqual([]);
    sets.state.keys = [jwk("k1")];
    time.advance(MAX_AGE_MS);
    await cache.getJwk(URI, jwt("k1"));
    expect(replaced).toEqual([URI]);
  });

  it("refuses a token without a string kid before any fetch", async () => {
    const { cache, sets } = setup();
    await expect(cache.getJwk(URI, jwt(undefined))).rejects.toThrow(/kid/);
    expect(sets.state.calls).toBe(0);
  });

  it("keeps a set handed in with addJwks, and re-adding the same set keeps its max-age", async () => {
    const { cache, sets, time } = setup();
    const jwks = parseJwks(encode({ keys: [jwk("k1")] })) as Jwks;
    cache.addJwks(URI, jwks);
    time.advance(MAX_AGE_MS - 1);
    cache.addJwks(URI, jwks);
    time.advance(1);
    await cache.getJwk(URI, jwt("k1"));
    expect(sets.state.calls).toBe(1);
  });
});

describe("RedirectingJwksCache", () => {
  it("sends the redirected URIs elsewhere and the others through", async () => {
    const calls: string[] = [];
    const inner: JwksCache = {
      getJwk: async (uri) => (calls.push(`getJwk ${uri}`), jwk("k1")),
      getCachedJwk: (uri) => (calls.push(`getCachedJwk ${uri}`), jwk("k1")),
      addJwks: (uri) => void calls.push(`addJwks ${uri}`),
      getJwks: async (uri) => (calls.push(`getJwks ${uri}`), { keys: [] }),
    };
    const cache = new RedirectingJwksCache(inner, new Map([[URI, "https://proxy.test/jwks"]]));
    await cache.getJwk(URI, jwt("k1"));
    cache.getCachedJwk("https://other.test/jwks", jwt("k1"));
    cache.addJwks(URI, { keys: [] });
    await cache.getJwks(URI);
    expect(calls).toEqual(["getJwk https://proxy.test/jwks", "getCachedJwk https://other.test/jwks", "addJwks https://proxy.test/jwks", "getJwks https://proxy.test/jwks"]);
  });
});
