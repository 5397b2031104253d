import * as jwtErrors from "aws-jwt-verify/error";
import {
  FetchError,
  JwkValidationError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtBaseError,
  JwtExpiredError,
  NotSupportedError,
  ParameterValidationError,
} from "aws-jwt-verify/error";

/**
 * What one invocation decided. These exact strings are the EMF metric names that the
 * dashboard and alarms read, so they are part of the public contract.
 */
export const DECISIONS = ["Allow", "Deny", "Expired", "Invalid", "Error"] as const;
export type Decision = (typeof DECISIONS)[number];
/** The decisions a failure can map to: Expired and Invalid are a 401, Error (our failure) a 500. */
export type FailureDecision = Exclude<Decision, "Allow" | "Deny">;

/**
 * The root of this authorizer's own errors. Each concrete class states its `name` as a string
 * literal (which survives minification, unlike the class name) and the decision it maps to, so
 * adding an error never means editing a list elsewhere.
 */
export abstract class AuthorizerError extends Error {
  abstract override readonly name: string;
  abstract readonly decision: FailureDecision;

  /**
   * Captures no stack: these errors are expected traffic (a bad token is a 401), they are logged by
   * class name and message only, and V8's stack capture was a measurable part of a rejection.
   */
  constructor(message?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/**
 * Runs `fn` with V8's stack capture off, for synchronous code whose errors are expected traffic and
 * only ever logged by class name (aws-jwt-verify's parse of a malformed token, the 401 thrown to API
 * Gateway). Scoped to the call: the limit is restored even when `fn` throws.
 */
export function withoutStackTrace<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The request carries no usable bearer token (missing header, wrong scheme, several tokens…). */
export class MissingTokenError extends AuthorizerError {
  override readonly name = "MissingTokenError";
  readonly decision = "Invalid";
}

/** The token names an issuer that this authorizer is not configured to trust. */
export class UnknownIssuerError extends AuthorizerError {
  override readonly name = "UnknownIssuerError";
  readonly decision = "Invalid";
}

/** A verified token whose claims do not have the shape this authorizer relies on. */
export class ClaimShapeError extends AuthorizerError {
  override readonly name = "ClaimShapeError";
  readonly decision = "Invalid";
}

/** The event is not one API Gateway sends (no method/route ARN, wrong types…): our failure, not the caller's. */
export class MalformedEventError extends AuthorizerError {
  override readonly name = "MalformedEventError";
  readonly decision = "Error";
}

/** Configuration is missing or malformed; names the variable and the expected form. */
export class ConfigError extends AuthorizerError {
  override readonly name = "ConfigError";
  readonly decision = "Error";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/**
 * aws-jwt-verify's errors that are our failures although they extend its JwtBaseError: fetching
 * or validating the key set, and its parameter checks. Tested before the generic JwtBaseError.
 * They must become a 500, never a 401 or a (cacheable) Deny.
 */
function isLibraryFailure(err: unknown): boolean {
  return (
    err instanceof FetchError ||
    err instanceof JwksValidationError ||
    err instanceof JwkValidationError ||
    err instanceof JwksNotAvailableInCacheError ||
    err instanceof ParameterValidationError ||
    err instanceof NotSupportedError
  );
}

/** Maps a failure to the decision it is counted as. Anything unexpected is our failure. */
export function classifyFailure(err: unknown): FailureDecision {
  if (err instanceof AuthorizerError) return err.decision;
  if (isLibraryFailure(err)) return "Error";
  if (err instanceof JwtExpiredError) return "Expired";
  if (err instanceof JwtBaseError) return "Invalid";
  return "Error";
}

/**
 * aws-jwt-verify's error classes by their export names: the bundle is minified without keepNames
 * (it would cost ~13 KB), and its classes do not name themselves. Our own errors carry `name`.
 */
const LIBRARY_ERROR_NAMES = new Map<unknown, string>(
  Object.entries(jwtErrors).flatMap(([name, cls]) => (typeof cls === "function" ? [[cls, name] as const] : [])),
);

/** A short, non-secret name for the failure: the error's class name. */
export function reasonOf(err: unknown): string {
  if (err instanceof AuthorizerError) return err.name;
  if (err instanceof Error) return LIBRARY_ERROR_NAMES.get(err.constructor) ?? (err.constructor.name || err.name);
  return typeof err;
}
