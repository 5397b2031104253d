import { join } from "node:path";
import type { Env } from "../src/config";
import { DECISIONS } from "../src/errors";
import { createHandler, initialize, INTERNAL_ERROR, UNAUTHORIZED } from "../src/handler";
import { createObservability } from "../src/observability";
import type { PolicyResponse, SimpleResponse } from "../src/response";
import type { VerifierDeps } from "../src/verifier";
import { captureOutput, captureStdout, emfMetricNames, emittedMetrics, lambdaContext, logRecords, parseLines } from "./support/capture";
import { judgeAnswer } from "./support/api-gateway";
import { eventFor, type EventName, HTTP_STAGE_PREFIX, STAGE_PREFIX } from "./support/events";
import { startJwksServer, type JwksServer } from "./support/jwks-server";
import {
  cognitoAccessClaims,
  generateKey,
  nowSeconds,
  signJwt,
  TEST_CLIENT_ID,
  TEST_ISSUER,
  TEST_POOL_ID,
  type TestKey,
} from "./support/keys";

const RULES_FILE = join(__dirname, "..", "access-rules.example.json");
let server: JwksServer;
let key: TestKey;
let ecKey: TestKey;
let foreign: TestKey;

beforeAll(async () => {
  key = generateKey("key-1");
  ecKey = generateKey("key-ec", "ES256");
  foreign = generateKey("key-1"); // same kid as the trusted key, different key material
  server = await startJwksServer([key.jwk, ecKey.jwk]);
});
afterAll(() => server.close());

function cognitoEnv(extra: Env = {}): Env {
  return {
    USER_POOL_ID: TEST_POOL_ID,
    CLIENT_ID: TEST_CLIENT_ID,
    JWKS_URI: server.jwksUri,
    ACCESS_RULES_FILE: RULES_FILE,
    POWERTOOLS_SERVICE_NAME: "authorizer-under-test",
    POWERTOOLS_METRICS_NAMESPACE: "AuthorizerTest",
    ...extra,
  };
}

async function makeHandler(env: Env, verifierDeps: VerifierDeps = {}) {
  const init = await captureStdout(async () => {
    const deps = initialize(env, createObservability(env), { fetchOptions: { ca: server.tls.caCert }, ...verifierDeps });
    await deps.ready;
    return deps;
  });
  if (!init.result) throw init.error;
  return { handler: createHandler(init.result), initRecords: init.records };
}

let defaultHandler: Awaited<ReturnType<typeof makeHandler>>["handler"];
beforeAll(async () => {
  defaultHandler = (await makeHandler(cognitoEnv())).handler;
});

const token = (claims: Record<string, unknown> = {}, signer: TestKey = key, header: Record<string, unknown> = {}) =>
  signJwt(cognitoAccessClaims(claims), signer, header);

async function call(event: unknown, handler = defaultHandler) {
  const captured = await captureStdout(() => handler(event, lambdaContext()));
  return { ...captured, metrics: emittedMetrics(captured.records), decisionLog: logRecords(captured.records, "decision") };
}

/** Asserts exactly one decision metric, the given one, was emitted. */
function expectDecisionMetric(metrics: ReturnType<typeof emittedMetrics>, decision: string) {
  const emitted = DECISIONS.filter((d) => metrics[d] !== undefined);
  expect(emitted).toEqual([decision]);
  expect(metrics[decision]).toEqual({ value: 1, namespace: "AuthorizerTest", dimensions: ["service"] });
}

describe.each<EventName>(["token", "request", "http-api"])("%s event", (kind) => {
  const isHttp = kind === "http-api";

  it("allows a valid token on a permitted route, with a primitive-only context", async () => {
    const jwt = token();
    const { result, metrics, decisionLog, lines } = await call(eventFor(kind, jwt, "GET /pets"));
    const context = (result as PolicyResponse | SimpleResponse).context ?? {};
    if (isHttp) {
      expect((result as SimpleResponse).isAuthorized).toBe(true);
    } else {
      const policy = result as PolicyResponse;
      expect(policy.principalId).toBe("11111111-2222-3333-4444-555555555555");
      // GET /pets/{petId} has no exact IAM form, so only GET /pets (the request itself) is named.
      expect(policy.policyDocument.Statement).toEqual([
        { Action: "execute-api:Invoke", Effect: "Allow", Resource: [`${STAGE_PREFIX}/GET/pets`] },
      ]);
    }
    expect(context).toMatchObject({
      sub: "11111111-2222-3333-4444-555555555555",
      username: "alice",
      clientId: TEST_CLIENT_ID,
      scope: "pets/read",
      groups: "users",
      tokenUse: "access",
      issuer: TEST_ISSUER,
    });
    expect(Object.values(context).every((v) => ["string", "number", "boolean"].includes(typeof v))).toBe(true);
    expect(JSON.parse(String(context.claims))).toEqual(JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()));
    expectDecisionMetric(metrics, "Allow");
    expect(decisionLog).toHaveLength(1);
    expect(decisionLog[0]).toMatchObject({ decision: "Allow", route: "GET /pets", principalId: "11111111-2222-3333-4444-555555555555", clientId: TEST_CLIENT_ID, function_request_id: "6f1c7a3e-0000-4000-8000-00000000c0de" });
    expect(typeof decisionLog[0].latencyMs).toBe("number");
    expect(lines.some((l) => l.includes(jwt.split(".")[2]))).toBe(false);
  });

  it("denies (403) a valid token on a route its scopes do not cover", async () => {
    const { result, error, metrics } = await call(eventFor(kind, token(), "POST /pets"));
    expect(error).toBeUndefined();
    if (isHttp) {
      expect(result).toEqual({ isAuthorized: false });
    } else {
      const policy = result as PolicyResponse;
      expect(policy.policyDocument.Statement).toEqual([
        { Action: "execute-api:Invoke", Effect: "Allow", Resource: [`${STAGE_PREFIX}/GET/pets`] },
        { Action: "execute-api:Invoke", Effect: "Deny", Resource: [`${STAGE_PREFIX}/POST/pets`] },
      ]);
      // The context rides along: API Gateway caches this answer and may serve GET /pets from it.
      expect(policy.context).toMatchObject({ sub: "11111111-2222-3333-4444-555555555555", scope: "pets/read" });
    }
    expectDecisionMetric(metrics, "Deny");
  });

  it("throws exactly Unauthorized (401) without a token", async () => {
    const event = eventFor(kind, "x");
    delete event.authorizationToken;
    event.headers = {};
    delete event.multiValueHeaders;
    delete event.identitySource;
    const { error, metrics, decisionLog } = await call(event);
    expect(error?.message).toBe(UNAUTHORIZED);
    // A plain Error, as API Gateway wants it; expected traffic, so it carries no stack frames.
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(String(error?.stack)).not.toMatch(/\n\s+at /);
    expectDecisionMetric(metrics, "Invalid");
    expect(decisionLog[0]).toMatchObject({ decision: "Invalid", reason: "MissingTokenError" });
  });

  it("throws Unauthorized (401) for an expired token and counts it as Expired", async () => {
    const { error, metrics, decisionLog } = await call(eventFor(kind, token({ exp: nowSeconds() - 10, iat: nowSeconds() - 3610 })));
    expect(error?.message).toBe(UNAUTHORIZED);
    expectDecisionMetric(metrics, "Expired");
    expect(decisionLog[0]).toMatchObject({ decision: "Expired", reason: "JwtExpiredError" });
  });
});

describe("token verification", () => {
  const tamper = (jwt: string) => {
    const [h, p, s] = jwt.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    claims.scope = "pets/read pets/write";
    return [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
  };
  const unsigned = (alg: string, signature = "") =>
    [
      Buffer.from(JSON.stringify({ alg, kid: "key-1" })).toString("base64url"),
      Buffer.from(JSON.stringify(cognitoAccessClaims())).toString("base64url"),
      signature,
    ].join(".");

  it.each<[string, string, () => string]>([
    ["another pool's issuer", "UnknownIssuerError", () => token({ iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other" })],
    ["another app client", "CognitoJwtInvalidClientIdError", () => token({ client_id: "someone-else" })],
    ["an id token where access tokens are required", "CognitoJwtInvalidTokenUseError", () => token({ token_use: "id", aud: TEST_CLIENT_ID, client_id: undefined })],
    ["an unknown kid", "KidNotFoundInJwksError", () => token({}, key, { kid: "key-unknown" })],
    ["a tampered payload", "JwtInvalidSignatureError", () => tamper(token())],
    ["a foreign key under the trusted kid", "JwtInvalidSignatureError", () => token({}, foreign)],
    ["alg none without a signature", "JwtParseError", () => unsigned("none")],
    ["alg none with a signature", "JwtInvalidSignatureAlgorithmError", () => unsigned("none", token().split(".")[2])],
    ["a token without exp", "RequiredClaimError", () => token({ exp: undefined })],
    ["groups that are not an array", "ClaimShapeError", () => token({ "cognito:groups": "admin" })],
    ["garbage", "JwtParseError", () => "not.a.jwt"],
  ])("rejects %s with Unauthorized, reason %s", async (_case, reason, make) => {
    const { error, metrics, decisionLog } = await call(eventFor("request", make()));
    expect(error?.message).toBe(UNAUTHORIZED);
    expectDecisionMetric(metrics, "Invalid");
    expect(decisionLog[0].reason).toBe(reason);
  });

  it("accepts an ES256 key from the same key set", async () => {
    const { result } = await call(eventFor("request", token({}, ecKey)));
    expect((result as PolicyResponse).policyDocument.Statement[0].Effect).toBe("Allow");
  });

  it("accepts the global Cognito issuer format too", async () => {
    const iss = `https://issuer-cognito-idp.eu-west-1.amazonaws.com/${TEST_POOL_ID}`;
    const { result, error } = await call(eventFor("token", token({ iss })));
    expect(error).toBeUndefined();
    expect((result as PolicyResponse).context?.issuer).toBe(iss);
  });
});

describe("strict token checks (issue 10)", () => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  /** Sets the unused bits of segment i's last character: the same bytes under another string. */
  const unusedBitsSet = (jwt: string, i: number) => {
    const parts = jwt.split(".");
    const seg = parts[i];
    if (seg.length % 4 === 0) throw new Error(`segment ${i} has no unused bits; pad the token`);
    parts[i] = seg.slice(0, -1) + ALPHABET[ALPHABET.indexOf(seg[seg.length - 1]) | (seg.length % 4 === 2 ? 0b1111 : 0b11)];
    return parts.join(".");
  };
  /** A token whose header segment has unused bits (its length is not a multiple of 4 characters). */
  const withPartialHeader = () => {
    for (let pad = ""; ; pad += "x") {
      const jwt = token({}, key, { pad });
      if (jwt.split(".")[0].length % 4 !== 0) return jwt;
    }
  };

  it.each<[string, string, () => string]>([
    ["crit naming an unknown extension", "UnsupportedJwsExtensionError", () => token({}, key, { crit: ["x-unknown"], "x-unknown": 1 })],
    ["crit b64 with b64 false", "UnsupportedJwsExtensionError", () => token({}, key, { crit: ["b64"], b64: false })],
    ["a signature with non-zero unused bits", "NonCanonicalEncodingError", () => unusedBitsSet(token(), 2)],
    ["a header with non-zero unused bits", "NonCanonicalEncodingError", () => unusedBitsSet(withPartialHeader(), 0)],
    ["iat 5 s in the future (an IdP clock slightly ahead)", "Allow", () => token({ iat: nowSeconds() + 5 })],
    ["nbf 5 s in the future", "Allow", () => token({ nbf: nowSeconds() + 5 })],
    ["iat an hour in the future", "IssuedInFutureError", () => token({ iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 })],
    ["exp 10 s ago (no grace for exp by default)", "JwtExpiredError", () => token({ exp: nowSeconds() - 10 })],
  ])("%s → %s", async (_case, reason, make) => {
    const { result, error, metrics, decisionLog } = await call(eventFor("token", make()));
    if (reason === "Allow") {
      expect(error).toBeUndefined();
      expect((result as PolicyResponse).policyDocument.Statement[0].Effect).toBe("Allow");
      expectDecisionMetric(metrics, "Allow");
    } else {
      expect(error?.message).toBe(UNAUTHORIZED);
      expectDecisionMetric(metrics, reason === "JwtExpiredError" ? "Expired" : "Invalid");
      expect(decisionLog[0].reason).toBe(reason);
    }
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["typ at+jwt", { typ: "at+jwt" }, "Allow"],
    ["typ application/at+jwt", { typ: "application/at+jwt" }, "Allow"],
    ["typ JWT (an ID token's)", { typ: "JWT" }, "TokenTypeError"],
    ["no typ", { typ: undefined }, "TokenTypeError"],
  ])("with JWT_TYP=at+jwt: %s (%j) → %s", async (_case, header, reason) => {
    const { handler } = await makeHandler(cognitoEnv({ JWT_TYP: "at+jwt" }));
    const { error, decisionLog } = await call(eventFor("request", token({}, key, header)), handler);
    if (reason === "Allow") expect(error).toBeUndefined();
    else expect([error?.message, decisionLog[0].reason]).toEqual([UNAUTHORIZED, reason]);
  });
});

describe("key-set refresh (JWKS_MAX_AGE_SECONDS=2, a fake clock, a real HTTPS key set)", () => {
  it("stops trusting a removed kid after a successful refresh, and keeps the keys through a failed one (logged and counted)", async () => {
    const rotating = await startJwksServer([key.jwk, ecKey.jwk], server.tls);
    let clock = Date.now();
    const { handler } = await makeHandler(cognitoEnv({ JWKS_URI: rotating.jwksUri, JWKS_MAX_AGE_SECONDS: "2" }), { now: () => clock });
    expect(rotating.requests).toBe(1);
    expect((await call(eventFor("token", token()), handler)).error).toBeUndefined();

    // The IdP rotates key-1 out. Within the max-age it still verifies; after it, one fetch and a 401.
    rotating.keys = [ecKey.jwk];
    clock += 1999;
    expect((await call(eventFor("token", token()), handler)).error).toBeUndefined();
    expect(rotating.requests).toBe(1);
    clock += 1;
    const removed = await call(eventFor("token", token()), handler);
    expect(removed.error?.message).toBe(UNAUTHORIZED);
    expect(removed.decisionLog[0].reason).toBe("KidNotFoundInJwksError");
    expect(rotating.requests).toBe(2);
    expect((await call(eventFor("token", token({}, ecKey)), handler)).error).toBeUndefined();

    // The IdP fails: the keys are kept, the request is allowed, the failure is logged and counted.
    rotating.mode = { kind: "status", status: 503 };
    clock += 2000;
    const kept = await call(eventFor("token", token({}, ecKey)), handler);
    expect(kept.error).toBeUndefined();
    expect(rotating.requests).toBe(3);
    expectDecisionMetric(kept.metrics, "Allow");
    expect(kept.metrics.JwksRefreshFailed).toEqual({ value: 1, namespace: "AuthorizerTest", dimensions: ["service"] });
    expect(logRecords(kept.records, "JWKS refresh failed; keeping the cached keys")[0]).toMatchObject({
      level: "WARN",
      reason: "NonRetryableFetchError",
      jwksUri: rotating.jwksUri,
      staleForSeconds: 0,
      graceLeftSeconds: 21600,
    });
    await rotating.close();
  });
});

describe("access rules and API Gateway's policy cache", () => {
  const ROUTES = ["GET /pets", "GET /pets/42", "POST /pets", "DELETE /pets/42", "GET /admin/users", "PUT /admin/users/9", "GET /orders"];
  const arnOf = (route: string) => `${STAGE_PREFIX}/${route.split(" ")[0]}${route.split(" ")[1]}`;

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a reader", { scope: "pets/read", "cognito:groups": [] }, ["GET /pets", "GET /pets/42"]],
    ["a writer", { scope: "pets/write", "cognito:groups": [] }, ["POST /pets", "DELETE /pets/42"]],
    ["an admin", { scope: "", "cognito:groups": ["admin"] }, ["DELETE /pets/42", "GET /admin/users", "PUT /admin/users/9"]],
    ["a caller with no matching scope or group", { scope: "orders/read", "cognito:groups": ["users"] }, []],
  ])("the policy cached for %s never allows a route beyond its own, whichever route was asked first", async (_who, claims, permitted) => {
    const jwt = token(claims);
    for (const first of ROUTES) {
      const { result } = await call(eventFor("token", jwt, first));
      // API Gateway's verdict, from an independent IAM simulator (test/support/api-gateway.ts).
      expect([first, judgeAnswer(result, arnOf(first))]).toEqual([first, permitted.includes(first) ? "Allow" : "Deny"]);
      for (const route of ROUTES) {
        const verdict = judgeAnswer(result, arnOf(route));
        if (verdict === "Allow") expect([first, route, permitted.includes(route)]).toEqual([first, route, true]);
        // Routes without {params} are named exactly, so the cached copy serves them too.
        if (permitted.includes(route) && !/\d/.test(route)) expect([first, route, verdict]).toEqual([first, route, "Allow"]);
      }
      expect((result as PolicyResponse).context).toMatchObject({ sub: expect.any(String), claims: expect.any(String) });
    }
  });

  it("allows the whole stage of the request, and only it, when no rules are configured", async () => {
    const { handler } = await makeHandler(cognitoEnv({ ACCESS_RULES_FILE: undefined }));
    const { result } = await call(eventFor("request", token(), "DELETE /anything/at/all"), handler);
    expect((result as PolicyResponse).policyDocument.Statement).toEqual([
      { Action: "execute-api:Invoke", Effect: "Allow", Resource: [`${STAGE_PREFIX}/*/*`] },
    ]);
    const http = await call(eventFor("http-api", token(), "POST /x"), handler);
    expect(http.result).toMatchObject({ isAuthorized: true });
    expect(HTTP_STAGE_PREFIX).toContain("$default");
  });
});

describe("our own failures are 500s, never a 401 or a Deny", () => {
  it("reports an unreachable key set as Error, and logs the prefetch failure at init", async () => {
    const down = await startJwksServer([key.jwk], server.tls);
    down.mode = { kind: "status", status: 503 };
    const { handler, initRecords } = await makeHandler(cognitoEnv({ JWKS_URI: down.jwksUri }), { retryAfterFailureMs: 300 });
    expect(logRecords(initRecords, "JWKS prefetch failed; keys will be fetched on demand")[0]).toMatchObject({ level: "WARN", reason: "NonRetryableFetchError" });
    const requestsAfterInit = down.requests;
    // Right after a failed fetch the key set is not asked again: a fast 500, no request.
    const { error, metrics, decisionLog } = await call(eventFor("token", token()), handler);
    expect(error?.message).toBe(INTERNAL_ERROR);
    expectDecisionMetric(metrics, "Error");
    expect(decisionLog[0]).toMatchObject({ level: "ERROR", decision: "Error", reason: "FetchError", error: expect.stringContaining(down.jwksUri) });
    // The error's message comes last, after the decision's fields.
    expect(Object.keys(decisionLog[0]).slice(-2)).toEqual(["latencyMs", "error"]);
    expect(down.requests).toBe(requestsAfterInit);
    // After the window the prefetch is retried on demand: once the key set is back, the same container verifies.
    down.mode = { kind: "ok" };
    await new Promise((resolve) => setTimeout(resolve, 350));
    const recovered = await call(eventFor("token", token()), handler);
    expect(recovered.error).toBeUndefined();
    expect(down.requests).toBe(requestsAfterInit + 1);
    await down.close();
  });

  it("reports a key set that is not JSON as Error", async () => {
    const broken = await startJwksServer([key.jwk], server.tls);
    broken.mode = { kind: "body", body: "<html>oops</html>", contentType: "text/html" };
    const { handler } = await makeHandler(cognitoEnv({ JWKS_URI: broken.jwksUri }));
    const { error, metrics } = await call(eventFor("request", token()), handler);
    expect(error?.message).toBe(INTERNAL_ERROR);
    expectDecisionMetric(metrics, "Error");
    await broken.close();
  });

  it("fails every request with Error when the configuration is invalid, naming the variable at init", async () => {
    const { handler, initRecords } = await makeHandler(cognitoEnv({ CLIENT_ID: undefined }));
    expect(logRecords(initRecords, "Invalid configuration: every request will fail with a 500 until it is fixed")[0]).toMatchObject({
      level: "ERROR",
      reason: "ConfigError",
      error: expect.stringMatching(/^CLIENT_ID is required/),
    });
    for (const jwt of [token(), "garbage"]) {
      const { error, metrics } = await call(eventFor("token", jwt), handler);
      expect(error?.message).toBe(INTERNAL_ERROR);
      expectDecisionMetric(metrics, "Error");
    }
  });

  it("reports an event API Gateway would never send as Error", async () => {
    const { error, metrics, decisionLog } = await call({ type: "TOKEN", authorizationToken: `Bearer ${token()}` });
    expect(error?.message).toBe(INTERNAL_ERROR);
    expectDecisionMetric(metrics, "Error");
    expect(decisionLog[0].reason).toBe("MalformedEventError");
  });
});

describe("generic OIDC issuers", () => {
  const ISSUER = "https://idp.example.test/tenant-1";
  let handler: Awaited<ReturnType<typeof makeHandler>>["handler"];
  beforeAll(async () => {
    ({ handler } = await makeHandler({ ISSUER, AUDIENCE: "api://pets,spa-client", JWKS_URI: server.jwksUri }));
  });
  const oidcToken = (claims: Record<string, unknown>) =>
    signJwt({ sub: "user-7", iss: ISSUER, iat: nowSeconds(), exp: nowSeconds() + 600, ...claims }, key);

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ["an aud-shaped ID token", { aud: "api://pets" }, undefined],
    ["an aud array", { aud: ["other", "spa-client"] }, undefined],
    ["a client_id-shaped access token", { client_id: "spa-client", scope: "openid" }, undefined],
    ["a foreign audience", { aud: "api://billing" }, "JwtInvalidAudienceError"],
    ["a foreign client_id", { client_id: "intruder" }, "JwtInvalidAudienceError"],
    ["neither aud nor client_id", {}, "JwtInvalidAudienceError"],
    ["iat in the future", { aud: "api://pets", iat: nowSeconds() + 3600 }, "IssuedInFutureError"],
  ])("%s → %s", async (_case, claims, reason) => {
    const { result, error, decisionLog } = await call(eventFor("token", oidcToken(claims)), handler);
    if (reason === undefined) {
      expect(error).toBeUndefined();
      expect((result as PolicyResponse).principalId).toBe("user-7");
    } else {
      expect(error?.message).toBe(UNAUTHORIZED);
      expect(decisionLog[0].reason).toBe(reason);
    }
  });
});

describe("container lifecycle", () => {
  it("prefetches the key set at init, so warm and first requests fetch nothing", async () => {
    const before = server.requests;
    const { handler } = await makeHandler(cognitoEnv());
    const afterInit = server.requests;
    expect(afterInit - before).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) await call(eventFor("request", token({ jti: `j${i}` })), handler);
    expect(server.requests).toBe(afterInit);
  });

  it("emits the ColdStart metric on the first invocation only", async () => {
    // Lambda sets this for on-demand environments; Powertools reports cold starts only there.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
    const { handler } = await makeHandler(cognitoEnv()).finally(() => delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE);
    const first = await call(eventFor("request", token()), handler);
    const second = await call(eventFor("request", token()), handler);
    expect(first.metrics.ColdStart).toEqual({ value: 1, namespace: "AuthorizerTest", dimensions: ["service", "function_name"] });
    expect(second.metrics.ColdStart).toBeUndefined();
    expect(first.decisionLog[0].cold_start).toBe(true);
    expect(second.decisionLog[0].cold_start).toBe(false);
  });

  it("never writes the token, its signature or the event to the logs", async () => {
    const jwt = token();
    const outputs = await Promise.all([
      call(eventFor("request", jwt, "GET /pets")),
      call(eventFor("request", jwt, "POST /pets")),
      call(eventFor("request", jwt.slice(0, -4) + "AAAA")),
    ]);
    const all = outputs.flatMap((o) => o.lines).join("\n");
    expect(all).toContain('"decision"');
    expect(all).not.toContain(jwt.split(".")[2]);
    expect(all).not.toContain(jwt.split(".")[1]);
    expect(all).not.toContain("Bearer");
    expect(all).not.toContain("c6af9ac6-7b61-11e6-9a41-93e8deadbeef\",\"headers");
  });
});

describe("latency", () => {
  it("is measured with the injected monotonic clock, from the event's arrival to the answer", async () => {
    const ticks = [1_000, 1_012.3456];
    const clock = () => ticks.shift() ?? Number.NaN;
    const authorizer = { authorize: async () => ({ decision: "Invalid" as const, reason: "MissingTokenError" }) };
    const handler = createHandler({ ...createObservability({ POWERTOOLS_SERVICE_NAME: "latency-test" }), authorizer, ready: Promise.resolve(), clock });
    const { records, error } = await captureStdout(() => handler({}, lambdaContext()));
    expect(error?.message).toBe(UNAUTHORIZED);
    expect(logRecords(records, "decision")[0]).toMatchObject({ decision: "Invalid", latencyMs: 12.346 });
    expect(ticks).toEqual([]);
  });
});

describe("output batching", () => {
  /** A stand-in for process.stdout's cork/uncork that notes how many records had been written at each call. */
  function corkRecorder(written: () => number) {
    const calls: { call: "cork" | "uncork"; written: number }[] = [];
    return {
      calls,
      cork: () => void calls.push({ call: "cork", written: written() }),
      uncork: () => void calls.push({ call: "uncork", written: written() }),
    };
  }
  const outcomes = [
    ["Allow", { decision: "Allow" as const, response: { isAuthorized: true, context: {} } }, undefined],
    ["Invalid", { decision: "Invalid" as const, reason: "JwtParseError" }, UNAUTHORIZED],
    ["Error", { decision: "Error" as const, reason: "FetchError", error: new Error("down") }, INTERNAL_ERROR],
  ] as const;

  it.each(outcomes)("corks the stream once around the %s decision's log line and EMF record, and uncorks it before settling", async (decision, outcome, thrown) => {
    const output = captureOutput();
    try {
      const stdout = corkRecorder(() => output.lines.length);
      const handler = createHandler({ ...createObservability({ POWERTOOLS_SERVICE_NAME: "batching-test" }), authorizer: { authorize: async () => outcome }, ready: Promise.resolve(), stdout });
      const before = output.lines.length;
      const settled = await handler({}, lambdaContext({ functionName: "" })).then(() => undefined, (err: Error) => err.message);
      expect(settled).toBe(thrown);
      const records = parseLines(output.since(before));
      // Everything this invocation wrote lies between the one cork and the one uncork (the cold-start record aside).
      const own = records.filter((r) => !("ColdStart" in r));
      expect(logRecords(own, "decision")).toEqual([expect.objectContaining({ decision })]);
      expect(emfMetricNames(own)).toEqual([decision]);
      const coldStart = records.length - own.length;
      expect(stdout.calls).toEqual([
        { call: "cork", written: before + coldStart },
        { call: "uncork", written: before + records.length },
      ]);
    } finally {
      output.stop();
    }
  });

  it("uncorks the stream even when the EMF flush throws (a corked stream would hold every later record)", async () => {
    const output = captureOutput();
    try {
      const stdout = corkRecorder(() => output.lines.length);
      const observability = createObservability({ POWERTOOLS_SERVICE_NAME: "batching-test" });
      // Powertools refuses to flush a metric whose name is also a metadata key.
      observability.metrics.addMetadata("Allow", "collides");
      const handler = createHandler({ ...observability, authorizer: { authorize: async () => outcomes[0][1] }, ready: Promise.resolve(), stdout });
      await expect(handler({}, lambdaContext({ functionName: "" }))).rejects.toThrow();
      expect(stdout.calls.map((c) => c.call)).toEqual(["cork", "uncork"]);
    } finally {
      output.stop();
    }
  });
});
