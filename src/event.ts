import { type MethodArn, parseMethodArn } from "./arn";
import { MAX_TOKEN_LENGTH } from "./config";
import { MalformedEventError, MissingTokenError } from "./errors";

export type EventKind = "TOKEN" | "REQUEST" | "HTTP";

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
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Marks an Authorization header that came with several values, or a value that is not a string (a 401). */
export const AMBIGUOUS = Symbol("ambiguous");

/**
 * `Bearer <jwt>`: scheme case-insensitive, surrounding and separating spaces tolerated, exactly one
 * token made only of base64url characters and dots (so "Bearer a, Bearer b" or "Bearer a b" fail).
 */
const BEARER = /^\s*bearer +([A-Za-z0-9_\-.]+)\s*$/i;

/** Pulls the JWT out of an Authorization value, or says why it cannot (a 401). */
export function bearerToken(authorization: string | undefined | typeof AMBIGUOUS): string | MissingTokenError {
  if (authorization === undefined) return new MissingTokenError("no Authorization value");
  if (authorization === AMBIGUOUS) return new MissingTokenError("several Authorization values");
  if (authorization.length > MAX_TOKEN_LENGTH) return new MissingTokenError("Authorization value too long");
  const match = BEARER.exec(authorization);
  if (!match) return new MissingTokenError("Authorization value is not a single Bearer token");
  return match[1];
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
    return describe("HTTP", arn, requestId, authorization);
  }
  if (event.type === "TOKEN") {
    const arn = requireArn(event.methodArn, "methodArn");
    const token = event.authorizationToken;
    return describe("TOKEN", arn, requestId, typeof token === "string" ? token : undefined);
  }
  if (event.type === "REQUEST") {
    const arn = requireArn(event.methodArn, "methodArn");
    let authorization = header(event.headers, "authorization");
    if (multiValueCount(event.multiValueHeaders, "authorization") > 1) authorization = AMBIGUOUS;
    return describe("REQUEST", arn, requestId, authorization);
  }
  throw new MalformedEventError('event is not a TOKEN, REQUEST or version "2.0" authorizer event');
}

function describe(
  kind: EventKind,
  arn: MethodArn,
  requestId: string | undefined,
  authorization: string | undefined | typeof AMBIGUOUS,
): AuthorizerRequest {
  return {
    kind,
    arn,
    route: `${arn.method} /${arn.path}`,
    ...(requestId ? { requestId } : {}),
    token: bearerToken(authorization),
  };
}
