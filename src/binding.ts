/**
 * Sender-constrained tokens: a verified token's `cnf` claim (RFC 7800) bound to a mutual-TLS client
 * certificate (RFC 8705 §3, `x5t#S256`) or to a DPoP key (RFC 9449, `jkt`) is accepted only from a
 * sender that proves it holds that certificate or key. BOUND_TOKENS decides what bound and unbound
 * tokens get (config.ts). Runs after the token's signature and claims are verified.
 */
import { X509Certificate } from "node:crypto";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import type { BoundTokenMode, Config } from "./config";
import { comparableUrl, DpopProofMalformedError, DpopProofMissingError, sha256Base64Url, verifyDpopProof } from "./dpop";
import { AuthorizerError } from "./errors";
import { AMBIGUOUS, type AuthorizerRequest } from "./event";
import { ReplayCache } from "./replay-cache";

/** BOUND_TOKENS=refuse: this token carries `cnf`, and sender-constrained tokens are not enabled. */
export class BoundTokenRefusedError extends AuthorizerError {
  override readonly name = "BoundTokenRefusedError";
  readonly decision = "Invalid";
}
/** BOUND_TOKENS=require: this token carries no `cnf`. */
export class UnboundTokenError extends AuthorizerError {
  override readonly name = "UnboundTokenError";
  readonly decision = "Invalid";
}
/** The token's `cnf` is not an object with `x5t#S256` and/or `jkt` as strings: a binding this authorizer cannot check. */
export class UnsupportedBindingError extends AuthorizerError {
  override readonly name = "UnsupportedBindingError";
  readonly decision = "Invalid";
}
/** A certificate-bound token came without a client certificate (no mutual TLS, or a TOKEN authorizer). */
export class ClientCertificateMissingError extends AuthorizerError {
  override readonly name = "ClientCertificateMissingError";
  readonly decision = "Invalid";
}
/** The client certificate is not the one the token's `cnf["x5t#S256"]` names (or cannot be read). */
export class ClientCertificateMismatchError extends AuthorizerError {
  override readonly name = "ClientCertificateMismatchError";
  readonly decision = "Invalid";
}
/** A DPoP-bound token (`cnf.jkt`) presented with the Bearer scheme (RFC 9449 §7.2: no downgrade). */
export class DpopDowngradeError extends AuthorizerError {
  override readonly name = "DpopDowngradeError";
  readonly decision = "Invalid";
}
/** The DPoP scheme with a token that is not DPoP-bound (no `cnf.jkt`): there is no key for the proof to prove. */
export class DpopTokenNotBoundError extends AuthorizerError {
  override readonly name = "DpopTokenNotBoundError";
  readonly decision = "Invalid";
}

/** At most this many accepted DPoP proofs are remembered per container (~150 bytes each). */
export const REPLAY_CACHE_ENTRIES = 100_000;

/** Checks a verified token's binding against the request; throws one of the errors above or dpop.ts's. */
export type BindingCheck = (request: AuthorizerRequest, token: string, payload: JwtPayload) => void;

export type BindingOptions = Partial<Pick<Config, "boundTokens" | "dpopProofWindowSeconds" | "dpopPublicBaseUrls">>;

export interface BindingDeps {
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  readonly replayCache?: ReplayCache;
}

/** x5t#S256 (RFC 8705 §3.1): the base64url SHA-256 of the certificate's DER encoding. */
export function certificateThumbprint(pem: string): string {
  return sha256Base64Url(new X509Certificate(pem).raw);
}

function checkCertificate(expected: string, pem: string | undefined): void {
  if (pem === undefined) throw new ClientCertificateMissingError("The token is certificate-bound, and the request has no client certificate");
  let thumbprint: string;
  try {
    thumbprint = certificateThumbprint(pem);
  } catch {
    throw new ClientCertificateMismatchError("The token is certificate-bound, and the client certificate cannot be read");
  }
  if (thumbprint !== expected) throw new ClientCertificateMismatchError("The client certificate is not the one the token's cnf names");
}

/**
 * The URLs a request may have been sent to, without query: each DPOP_PUBLIC_BASE_URL followed by the
 * path within the stage (the method ARN's, the one the access rules judge); else the event's own
 * `https://{domainName}{requestContext.path}` (REST), or `https://{domainName}[/{stage}]{path}` (no
 * stage segment for `$default`).
 */
export function requestUrls(request: AuthorizerRequest, bases: readonly string[] | undefined): string[] {
  const path = `/${request.arn.path}`;
  if (bases) return bases.map((base) => `${base}${path}`);
  const { domainName, stage, requestPath } = request.sender;
  if (domainName === undefined) return [];
  const stagePart = stage === undefined || stage === "$default" ? "" : `/${stage}`;
  const url = comparableUrl(`https://${domainName}${requestPath ?? `${stagePart}${path}`}`);
  return url === undefined ? [] : [url];
}

type Cnf = { readonly x5t?: string; readonly jkt?: string };

/** The token's `cnf`, or undefined without one; throws when it holds nothing this authorizer can check. */
function confirmation(payload: JwtPayload): Cnf | undefined {
  const cnf = payload.cnf;
  if (cnf === undefined) return undefined;
  if (typeof cnf !== "object" || cnf === null || Array.isArray(cnf)) throw new UnsupportedBindingError("Expected cnf as an object");
  const { "x5t#S256": x5t, jkt } = cnf as Record<string, unknown>;
  if ((x5t !== undefined && typeof x5t !== "string") || (jkt !== undefined && typeof jkt !== "string")) {
    throw new UnsupportedBindingError("Expected cnf's x5t#S256 and jkt as strings");
  }
  if (x5t === undefined && jkt === undefined) throw new UnsupportedBindingError("Expected cnf to hold x5t#S256 or jkt, found neither");
  return { ...(x5t !== undefined ? { x5t } : {}), ...(jkt !== undefined ? { jkt } : {}) };
}

/** Builds the container's binding check (and with it the container's DPoP replay cache). */
export function createBindingCheck(options: BindingOptions = {}, deps: BindingDeps = {}): BindingCheck {
  const mode: BoundTokenMode = options.boundTokens ?? "refuse";
  const now = deps.now ?? Date.now;
  const dpop = {
    windowSeconds: options.dpopProofWindowSeconds ?? 60,
    now,
    replayCache: deps.replayCache ?? new ReplayCache(REPLAY_CACHE_ENTRIES, now),
  };
  return (request, token, payload) => {
    const cnf = confirmation(payload);
    if (cnf === undefined) {
      if (mode === "require") throw new UnboundTokenError("Expected a sender-constrained token (cnf), found none");
      if (request.scheme === "DPoP") throw new DpopTokenNotBoundError("The DPoP scheme needs a token with cnf.jkt");
      return;
    }
    if (mode === "refuse") throw new BoundTokenRefusedError("The token is sender-constrained (cnf), and BOUND_TOKENS is refuse");
    if (cnf.x5t !== undefined) checkCertificate(cnf.x5t, request.sender.clientCertPem);
    if (cnf.jkt === undefined) {
      if (request.scheme === "DPoP") throw new DpopTokenNotBoundError("The DPoP scheme needs a token with cnf.jkt");
      return;
    }
    if (request.scheme !== "DPoP") throw new DpopDowngradeError("A DPoP-bound token came with the Bearer scheme");
    const proof = request.sender.dpopProof;
    if (proof === undefined) throw new DpopProofMissingError("A DPoP-bound token came without a DPoP header");
    if (proof === AMBIGUOUS) throw new DpopProofMalformedError("Expected one DPoP header, found several");
    const target = {
      method: request.sender.method ?? request.arn.method,
      urls: requestUrls(request, options.dpopPublicBaseUrls),
      accessToken: token,
      jkt: cnf.jkt,
    };
    verifyDpopProof(proof, target, dpop);
  };
}
