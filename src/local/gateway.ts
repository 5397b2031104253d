import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { closeServer, listen, origin, readBody, sendJson } from "./http-util";

/** The local API's coordinates: every method ARN the gateway builds starts with this. */
export const LOCAL_API = { region: "eu-west-1", accountId: "123456789012", apiId: "localapi", stage: "local" } as const;

export type AuthorizerType = "REQUEST" | "TOKEN";

export interface GatewayOptions {
  /** The authorizer's invoke URL (the RIE path of the invoke server, or of a Docker container). */
  readonly invokeUrl: string;
  readonly host?: string;
  readonly port?: number;
  /** API Gateway's authorizer result TTL: 300 by default, at most 3600, 0 = no caching. */
  readonly cacheTtlSeconds?: number;
  /** REQUEST (identity source: the Authorization header, the default) or TOKEN. */
  readonly authorizerType?: AuthorizerType;
  /**
   * REQUEST only: the cache key also holds the request's method and path, as the template's
   * identity sources `context.httpMethod` and `context.path` make it (the default). false keys on
   * the Authorization header alone.
   */
  readonly cacheByRoute?: boolean;
  readonly clock?: () => number;
}

export interface LocalGateway {
  readonly url: string;
  /** Authorizer calls this gateway has made (cache misses). */
  authorizerCalls(): number;
  /** Requests answered from the cache. */
  cacheHits(): number;
  clearCache(): void;
  close(): Promise<void>;
}

interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly resources: readonly string[];
}

/** A valid authorizer answer, as API Gateway keeps it in its cache. */
export interface CachedPolicy {
  readonly principalId: string;
  readonly statements: readonly Statement[];
  readonly context: Readonly<Record<string, string | number | boolean>>;
}

export type AuthorizerResult =
  | { kind: "policy"; policy: CachedPolicy }
  | { kind: "unauthorized" }
  | { kind: "error"; why: string };

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/**
 * Validates an authorizer's REST answer the way API Gateway does; anything it would reject as an
 * invalid response (→ 500) returns a reason instead of a policy.
 */
export function parsePolicy(body: unknown): CachedPolicy | string {
  if (typeof body !== "object" || body === null) return "response is not a JSON object";
  const { principalId, policyDocument, context } = body as Record<string, unknown>;
  if (typeof principalId !== "string" || principalId === "") return "principalId missing";
  if (typeof policyDocument !== "object" || policyDocument === null) return "policyDocument missing";
  const raw = (policyDocument as Record<string, unknown>).Statement;
  if (!Array.isArray(raw)) return "policyDocument.Statement is not a list";
  const statements: Statement[] = [];
  for (const s of raw as Record<string, unknown>[]) {
    if (s?.Effect !== "Allow" && s?.Effect !== "Deny") return "statement Effect must be Allow or Deny";
    const actions = asList(s.Action);
    if (!actions.every((a) => typeof a === "string")) return "statement Action must be strings";
    const resources = asList(s.Resource);
    if (!resources.every((r) => typeof r === "string")) return "statement Resource must be strings";
    if (!actions.some((a) => a === "execute-api:Invoke" || a === "execute-api:*" || a === "*")) continue;
    statements.push({ effect: s.Effect, resources: resources as string[] });
  }
  const ctx: Record<string, string | number | boolean> = {};
  if (context !== undefined && context !== null) {
    if (typeof context !== "object" || Array.isArray(context)) return "context is not an object";
    for (const [k, v] of Object.entries(context)) {
      // API Gateway answers 500 when a context value is an object or an array.
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return `context.${k} is not a string, number or boolean`;
      ctx[k] = v;
    }
  }
  return { principalId, statements, context: ctx };
}

const compiled = new Map<string, RegExp>();

/**
 * IAM's resource matching, as API Gateway applies it to an authorizer's policy: the whole ARN must
 * match, `*` matches any run of characters (`/` included), `?` any one character, the rest itself.
 * (Checked against an independent IAM simulator in test/local/gateway.test.ts. They differ only where
 * IAM's behaviour is not documented: here `*` and `?` also match a line break, and `?` one code point
 * rather than one UTF-16 unit; a request path from a client never holds a raw line break.)
 */
export function iamResourceMatches(pattern: string, arn: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const source = [...pattern]
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${source}$`, "su");
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(arn);
}

/** API Gateway's policy evaluation: an explicit Deny wins, then any Allow, else denied. */
export function evaluatePolicy(policy: CachedPolicy, methodArn: string): "Allow" | "ExplicitDeny" | "ImplicitDeny" {
  const matches = (s: Statement) => s.resources.some((r) => iamResourceMatches(r, methodArn));
  if (policy.statements.some((s) => s.effect === "Deny" && matches(s))) return "ExplicitDeny";
  if (policy.statements.some((s) => s.effect === "Allow" && matches(s))) return "Allow";
  return "ImplicitDeny";
}

export function methodArnFor(method: string, path: string): string {
  const { region, accountId, apiId, stage } = LOCAL_API;
  return `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${method}/${path.replace(/^\//, "")}`;
}

function headerMaps(req: IncomingMessage): { headers: Record<string, string>; multi: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    headers[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { headers, multi };
}

/** LOCAL ONLY: the request header that stands in for a mutual-TLS client certificate (base64 of its PEM). */
export const LOCAL_CLIENT_CERT_HEADER = "x-local-client-cert";

/**
 * LOCAL ONLY. API Gateway takes the client certificate from the TLS handshake (mutual TLS on a custom
 * domain); this plain-HTTP gateway has none, so it takes the PEM, base64-encoded, from the
 * x-local-client-cert header and passes it on where API Gateway would. Never trust such a header in a
 * real deployment: anyone can send one.
 */
function localClientCert(req: IncomingMessage): { clientCert?: { clientCertPem: string } } {
  const value = req.headers[LOCAL_CLIENT_CERT_HEADER];
  if (typeof value !== "string" || value.trim() === "") return {};
  return { clientCert: { clientCertPem: Buffer.from(value.trim(), "base64").toString("utf8") } };
}

/** The REST REQUEST authorizer event API Gateway would send for this request. */
export function requestEvent(req: IncomingMessage, url: URL, requestId: string): Record<string, unknown> {
  const method = req.method ?? "GET";
  const { headers, multi } = headerMaps(req);
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    type: "REQUEST",
    methodArn: methodArnFor(method, url.pathname),
    resource: url.pathname,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      resourcePath: url.pathname,
      httpMethod: method,
      path: `/${LOCAL_API.stage}${url.pathname}`,
      accountId: LOCAL_API.accountId,
      stage: LOCAL_API.stage,
      requestId,
      identity: {
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: req.headers["user-agent"] ?? "",
        ...localClientCert(req),
      },
      apiId: LOCAL_API.apiId,
    },
  };
}

const MESSAGES = {
  unauthorized: { message: "Unauthorized" },
  explicitDeny: { message: "User is not authorized to access this resource with an explicit deny" },
  implicitDeny: { message: "User is not authorized to access this resource" },
  error: { message: null },
} as const;

/**
 * What API Gateway makes of the invoke URL's answer: a thrown "Unauthorized" (the RIE answers a thrown
 * error with 200 and its JSON), any other thrown error or a non-200 or non-JSON answer (500), or a
 * policy, valid or not (parsePolicy).
 */
export function interpretInvokeAnswer(status: number | undefined, functionError: boolean, text: string): AuthorizerResult {
  if (status !== 200) return { kind: "error", why: `invoke answered ${status}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: "error", why: `invoke answered non-JSON: ${text.slice(0, 80)}` };
  }
  if (functionError || (typeof body === "object" && body !== null && "errorMessage" in body)) {
    const message = (body as { errorMessage?: unknown }).errorMessage;
    return message === "Unauthorized" ? { kind: "unauthorized" } : { kind: "error", why: `authorizer threw "${String(message)}"` };
  }
  const policy = parsePolicy(body);
  return typeof policy === "string" ? { kind: "error", why: policy } : { kind: "policy", policy };
}

/** Posts one authorizer event to the invoke URL; never rejects (a transport failure is an error result). */
export function invokeAuthorizer(invokeUrl: URL, agent: Agent, event: Record<string, unknown>): Promise<AuthorizerResult> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(event);
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
    const req = request(invokeUrl, { method: "POST", agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve(interpretInvokeAnswer(res.statusCode, res.headers["x-amz-function-error"] !== undefined, Buffer.concat(chunks).toString("utf8"))),
      );
      res.on("error", (err) => resolve({ kind: "error", why: err.message }));
    });
    req.on("error", (err) => resolve({ kind: "error", why: `invoke failed: ${err.message}` }));
    req.end(payload);
  });
}

/**
 * API Gateway's authorizer cache: policies by cache key for the TTL (0 = off). Concurrent first
 * requests with one key share a single authorizer call (a local simplification that makes "one call
 * per key per TTL" exact under load). Unauthorized and error results are never cached.
 */
export class AuthorizerCache {
  private readonly entries = new Map<string, { policy: CachedPolicy; expires: number }>();
  private readonly inflight = new Map<string, Promise<AuthorizerResult>>();
  calls = 0;
  hits = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  /** The cached policy for `key`, or the result of `call()` (cached when it is a policy). */
  async get(key: string, call: () => Promise<AuthorizerResult>): Promise<{ result: AuthorizerResult; hit: boolean }> {
    const now = this.clock();
    const cached = this.ttlMs > 0 ? this.entries.get(key) : undefined;
    if (cached && cached.expires > now) {
      this.hits += 1;
      return { result: { kind: "policy", policy: cached.policy }, hit: true };
    }
    if (cached) this.entries.delete(key);
    let pending = this.ttlMs > 0 ? this.inflight.get(key) : undefined;
    if (!pending) {
      this.calls += 1;
      pending = call();
      if (this.ttlMs > 0) {
        this.inflight.set(key, pending);
        void pending.finally(() => this.inflight.delete(key));
      }
    }
    const result = await pending;
    if (result.kind === "policy" && this.ttlMs > 0 && !this.entries.has(key)) this.entries.set(key, { policy: result.policy, expires: now + this.ttlMs });
    return { result, hit: false };
  }

  clear(): void {
    this.entries.clear();
  }
}

function sendAuthorizerFailure(res: ServerResponse, base: Record<string, string>, result: AuthorizerResult & { kind: "unauthorized" | "error" }): void {
  if (result.kind === "unauthorized") {
    sendJson(res, 401, MESSAGES.unauthorized, { ...base, "x-amzn-errortype": "UnauthorizedException" });
    return;
  }
  sendJson(res, 500, MESSAGES.error, {
    ...base,
    "x-amzn-errortype": "AuthorizerConfigurationException",
    "x-local-gateway-error": result.why.replace(/[^\x20-\x7e]/g, "?").slice(0, 200),
  });
}

/**
 * A small stand-in for API Gateway (REST API) in front of a sample backend: it takes the
 * Authorization header, invokes the Lambda authorizer through its invoke URL, evaluates the
 * returned policy against the request's method ARN, caches the answer for the TTL keyed by the
 * identity sources (the Authorization header value, and by default the method and path as the
 * template configures them), and answers 401 / 403 / 500 or forwards to a
 * backend that echoes what the authorizer said (200).
 *
 * Like API Gateway: a missing identity source is a 401 without calling the authorizer; a thrown
 * "Unauthorized" is a 401 and not cached; any other thrown error or an invalid answer is a 500;
 * a policy (Allow or Deny) is cached and evaluated against every later request with the same key.
 */
export async function startGateway(options: GatewayOptions): Promise<LocalGateway> {
  const ttlMs = Math.min(options.cacheTtlSeconds ?? 300, 3600) * 1000;
  const type = options.authorizerType ?? "REQUEST";
  const byRoute = options.cacheByRoute ?? true;
  const invokeUrl = new URL(options.invokeUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const cache = new AuthorizerCache(ttlMs, options.clock ?? Date.now);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const methodArn = methodArnFor(method, url.pathname);
    const base = { "x-amzn-requestid": requestId };
    await readBody(req, 1024 * 1024);

    const authorization = req.headers.authorization;
    if (authorization === undefined || authorization.trim() === "") {
      sendJson(res, 401, MESSAGES.unauthorized, { ...base, "x-amzn-errortype": "UnauthorizedException" });
      return;
    }
    // The cache key: the identity sources' values.
    const identity = type === "REQUEST" && byRoute ? JSON.stringify([authorization, method, url.pathname]) : authorization;
    const event = () =>
      type === "TOKEN" ? { type: "TOKEN", authorizationToken: authorization, methodArn } : requestEvent(req, url, requestId);
    const { result, hit } = await cache.get(identity, () => invokeAuthorizer(invokeUrl, agent, event()));
    if (result.kind !== "policy") {
      sendAuthorizerFailure(res, base, result);
      return;
    }
    const policy = result.policy;
    const cacheHeader = { ...base, "x-local-authorizer-cache": hit ? "hit" : "miss" };
    const verdict = evaluatePolicy(policy, methodArn);
    if (verdict !== "Allow") {
      sendJson(res, 403, verdict === "ExplicitDeny" ? MESSAGES.explicitDeny : MESSAGES.implicitDeny, {
        ...cacheHeader,
        "x-amzn-errortype": "AccessDeniedException",
      });
      return;
    }
    // The sample backend: echoes what a Lambda proxy integration would see in requestContext.authorizer.
    sendJson(
      res,
      200,
      {
        message: `Hello from the sample backend: ${method} ${url.pathname} was allowed`,
        route: `${method} ${url.pathname}`,
        methodArn,
        authorizer: { principalId: policy.principalId, ...policy.context },
      },
      cacheHeader,
    );
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { message: null }, { "x-local-gateway-error": err.message.slice(0, 200) });
      else res.destroy();
    });
  });
  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, host, options.port ?? 0);
  return {
    url: origin("http", host, port),
    authorizerCalls: () => cache.calls,
    cacheHits: () => cache.hits,
    clearCache: () => cache.clear(),
    close: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
