import { type MethodArn, parseMethodArn } from "./arn";
import { MAX_TOKEN_LENGTH } from "./config";
import { MalformedEventError, MissingTokenError } from "./errors";

export type EventKind = "TOKEN" | "REQUEST" | "HTTP";

/** The Authorization scheme the token came with: RFC 6750 `Bearer` or RFC 9449 `DPoP`. */
export type Scheme = "Bearer" | "DPoP";

/**
 * What the event says about the sender, for sender-constrained tokens (binding.ts). TOKEN events
 * carry none of it.
 */
export interface SenderEvidence {
  /** The `DPoP` proof header (RFC 9449), or AMBIGUOUS when it came several times or not as a string. */
  readonly dpopProof?: string | typeof AMBIGUOUS;
  /** The mutual-TLS client certificate API Gateway passes on (PEM). */
  readonly clientCertPem?: string;
  /** The request's HTTP method, as the event states it. */
  readonly method?: string;
  /** The host the client called (`requestContext.domainName`, else the Host header). */
  readonly domainName?: string;
  /** The stage (`$default` for an HTTP API's default stage). */
  readonly stage?: string;
  /** REST only: `requestContext.path`, the path as the client sent it (stage or base path included). */
  readonly requestPath?: string;
}

/** What the authorizer needs from any of the three API Gateway authorizer events. */
export interface AuthorizerRequest {
  readonly kind: EventKind;
  readonly arn: MethodArn;
  /** `VERB /path`, for logs. */
  readonly route: string;
  /** API Gateway's request id where the event carries one (REQUEST and HTTP API events). */
  readonly requestId?: string;
  /** The bearer JWT, or why there is none (a 401: missing header, wrong scheme, several tokens…). */
  readonly token: string | MissingTokenError;
  /** The scheme of the Authorization value, when it held a token. */
  readonly scheme?: Scheme;
  readonly sender: SenderEvidence;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Marks an Authorization header that came with several values, or a value that is not a string (a 401). */
export const AMBIGUOUS = Symbol("ambiguous");

/**
 * `Bearer <jwt>` or `DPoP <jwt>`: scheme case-insensitive, surrounding and separating spaces tolerated,
 * exactly one token made only of base64url characters and dots (so "Bearer a, Bearer b" or "Bearer a b" fail).
 */
const CREDENTIALS = /^\s*(bearer|dpop) +([A-Za-z0-9_\-.]+)\s*$/i;

/**
 * Pulls the JWT and its scheme out of an Authorization value (`Bearer <jwt>`, or `DPoP <jwt>` for
 * RFC 9449, same rules), or says why it cannot (a 401).
 */
export function credentials(authorization: string | undefined | typeof AMBIGUOUS): { scheme: Scheme; token: string } | MissingTokenError {
  if (authorization === undefined) return new MissingTokenError("no Authorization value");
  if (authorization === AMBIGUOUS) return new MissingTokenError("several Authorization values");
  if (authorization.length > MAX_TOKEN_LENGTH) return new MissingTokenError("Authorization value too long");
  const match = CREDENTIALS.exec(authorization);
  if (!match) return new MissingTokenError("Authorization value is not a single Bearer or DPoP token");
  return { scheme: match[1].toLowerCase() === "dpop" ? "DPoP" : "Bearer", token: match[2] };
}

/** Pulls the JWT out of a `Bearer` Authorization value, or says why it cannot (a 401). */
export function bearerToken(authorization: string | undefined | typeof AMBIGUOUS): string | MissingTokenError {
  const found = credentials(authorization);
  if (found instanceof MissingTokenError) return found;
  return found.scheme === "Bearer" ? found.token : new MissingTokenError("Authorization value is not a single Bearer token");
}

/** Case-insensitive single-valued header lookup; AMBIGUOUS when the name appears with several values. */
function header(headers: unknown, name: string): string | undefined | typeof AMBIGUOUS {
  if (!isObject(headers)) return undefined;
  let found: string | undefined;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const v = headers[key];
    if (v === null || v === undefined) continue;
    if (typeof v !== "string") return AMBIGUOUS;
    if (found !== undefined && found !== v) return AMBIGUOUS;
    found = v;
  }
  return found;
}

function multiValueCount(multi: unknown, name: string): number {
  if (!isObject(multi)) return 0;
  let count = 0;
  for (const key of Object.keys(multi)) {
    if (key.toLowerCase() !== name) continue;
    const values = multi[key];
    count += Array.isArray(values) ? values.length : 1;
  }
  return count;
}

function requireArn(value: unknown, field: string): MethodArn {
  const arn = parseMethodArn(value);
  if (!arn) throw new MalformedEventError(`${field} is missing or not an execute-api ARN`);
  return arn;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** A header that may appear once: its value, AMBIGUOUS when it came several times, undefined when absent. */
function singleHeader(event: Json, name: string): string | undefined | typeof AMBIGUOUS {
  const value = header(event.headers, name);
  return multiValueCount(event.multiValueHeaders, name) > 1 ? AMBIGUOUS : value;
}

/** `object.a.b.c` when each step is an object, else undefined. */
function at(object: Json, ...path: string[]): unknown {
  let current: unknown = object;
  for (const step of path) current = isObject(current) ? current[step] : undefined;
  return current;
}

/** What a REQUEST or HTTP API event says about its sender (see SenderEvidence). */
function senderOf(event: Json, requestContext: Json, http: boolean): SenderEvidence {
  const host = header(event.headers, "host");
  const evidence = {
    dpopProof: singleHeader(event, "dpop"),
    clientCertPem: optionalString(at(requestContext, http ? "authentication" : "identity", "clientCert", "clientCertPem")),
    method: optionalString(http ? at(requestContext, "http", "method") : event.httpMethod),
    domainName: optionalString(requestContext.domainName) ?? (typeof host === "string" ? host : undefined),
    stage: optionalString(requestContext.stage),
    requestPath: http ? undefined : optionalString(requestContext.path),
  };
  return Object.fromEntries(Object.entries(evidence).filter(([, v]) => v !== undefined)) as SenderEvidence;
}

/**
 * Reads a REST TOKEN, REST REQUEST or HTTP API 2.0 authorizer event. A shape API Gateway never
 * sends is our failure (MalformedEventError); a missing or odd Authorization is the caller's (401),
 * carried in `token` so that the request is still described in the decision log.
 */
export function readEvent(event: unknown): AuthorizerRequest {
  if (!isObject(event)) throw new MalformedEventError("event is not an object");
  const requestContext = isObject(event.requestContext) ? event.requestContext : {};
  const requestId = optionalString(requestContext.requestId);

  if (event.version === "2.0") {
    const arn = requireArn(event.routeArn, "routeArn");
    let authorization = header(event.headers, "authorization");
    if (authorization === undefined && Array.isArray(event.identitySource) && event.identitySource.length === 1) {
      authorization = optionalString(event.identitySource[0]);
    }
    return describe("HTTP", arn, requestId, authorization, senderOf(event, requestContext, true));
  }
  if (event.type === "TOKEN") {
    const arn = requireArn(event.methodArn, "methodArn");
    const token = event.authorizationToken;
    return describe("TOKEN", arn, requestId, typeof token === "string" ? token : undefined, {});
  }
  if (event.type === "REQUEST") {
    const arn = requireArn(event.methodArn, "methodArn");
    return describe("REQUEST", arn, requestId, singleHeader(event, "authorization"), senderOf(event, requestContext, false));
  }
  throw new MalformedEventError('event is not a TOKEN, REQUEST or version "2.0" authorizer event');
}

function describe(
  kind: EventKind,
  arn: MethodArn,
  requestId: string | undefined,
  authorization: string | undefined | typeof AMBIGUOUS,
  sender: SenderEvidence,
): AuthorizerRequest {
  const found = credentials(authorization);
  return {
    kind,
    arn,
    route: `${arn.method} /${arn.path}`,
    ...(requestId ? { requestId } : {}),
    ...(found instanceof MissingTokenError ? { token: found } : found),
    sender,
  };
}
