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

/** The request carries no usable bearer token (missing header, wrong scheme, several tokens…). */
export class MissingTokenError extends Error {}

/** The token names an issuer that this authorizer is not configured to trust. */
export class UnknownIssuerError extends Error {}

/** A verified token whose claims do not have the shape this authorizer relies on. */
export class ClaimShapeError extends Error {}

/** The event is not one API Gateway sends (no method/route ARN, wrong types…): our failure, not the caller's. */
export class MalformedEventError extends Error {}

/** Configuration is missing or malformed; names the variable and the expected form. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/**
 * Our own failures. Checked before the generic JwtBaseError because aws-jwt-verify's fetch and
 * key-set errors extend it too. They must become a 500, never a 401 or a (cacheable) Deny.
 */
function isOurFailure(err: unknown): boolean {
  return (
    err instanceof FetchError ||
    err instanceof JwksValidationError ||
    err instanceof JwkValidationError ||
    err instanceof JwksNotAvailableInCacheError ||
    err instanceof ParameterValidationError ||
    err instanceof NotSupportedError ||
    err instanceof ConfigError ||
    err instanceof MalformedEventError
  );
}

/** Maps a failure to the decision it is counted as. Anything unexpected is our failure. */
export function classifyFailure(err: unknown): Exclude<Decision, "Allow" | "Deny"> {
  if (isOurFailure(err)) return "Error";
  if (err instanceof JwtExpiredError) return "Expired";
  if (
    err instanceof JwtBaseError ||
    err instanceof MissingTokenError ||
    err instanceof UnknownIssuerError ||
    err instanceof ClaimShapeError
  ) {
    return "Invalid";
  }
  return "Error";
}

/**
 * Error classes by their source names. The bundle is minified without keepNames (it would cost
 * ~13 KB of bundle), so `constructor.name` is only reliable for built-ins; every class a decision
 * can name is registered here instead. Export names survive minification.
 */
const ERROR_NAMES = new Map<unknown, string>();

/** Registers error classes under their export names, e.g. `registerErrorNames({ MyError })`. */
export function registerErrorNames(classes: Readonly<Record<string, unknown>>): void {
  for (const [name, cls] of Object.entries(classes)) if (typeof cls === "function") ERROR_NAMES.set(cls, name);
}
registerErrorNames(jwtErrors);
registerErrorNames({ MissingTokenError, UnknownIssuerError, ClaimShapeError, MalformedEventError, ConfigError });

/** A short, non-secret name for the failure: the error's class name. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return ERROR_NAMES.get(err.constructor) ?? (err.constructor.name || err.name);
  return typeof err;
}
