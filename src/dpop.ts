/**
 * DPoP proofs (RFC 9449 §4.3) for a request that carries a DPoP-bound access token: parsed and
 * checked here, their signature verified by aws-jwt-verify (verifyJwtSync, with the proof's own
 * `jwk`), hashes and the RFC 7638 thumbprint by node:crypto. Pure but for the clock and the replay
 * cache it is given.
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { JwtInvalidSignatureError, JwtParseError } from "aws-jwt-verify/error";
import type { Jwk } from "aws-jwt-verify/jwk";
import { verifyJwtSync } from "aws-jwt-verify/jwt-verifier";
import { isCanonicalBase64Url, normalizeTyp } from "./claim-checks";
import { AuthorizerError } from "./errors";
import type { ReplayCache } from "./replay-cache";

/** No `DPoP` header came with a DPoP-bound token (or the event cannot carry one: a TOKEN authorizer). */
export class DpopProofMissingError extends AuthorizerError {
  override readonly name = "DpopProofMissingError";
  readonly decision = "Invalid";
}
/** The proof is not one compact JWS with the claims RFC 9449 requires, or came in several headers. */
export class DpopProofMalformedError extends AuthorizerError {
  override readonly name = "DpopProofMalformedError";
  readonly decision = "Invalid";
}
/** The proof's `typ` is not `dpop+jwt`. */
export class DpopProofTypeError extends AuthorizerError {
  override readonly name = "DpopProofTypeError";
  readonly decision = "Invalid";
}
/** The proof's `alg` is not an asymmetric algorithm this authorizer verifies (`none`, HMAC…). */
export class DpopProofAlgorithmError extends AuthorizerError {
  override readonly name = "DpopProofAlgorithmError";
  readonly decision = "Invalid";
}
/** The proof's `jwk` header is missing, holds private or symmetric key material, or is not a usable public key. */
export class DpopProofKeyError extends AuthorizerError {
  override readonly name = "DpopProofKeyError";
  readonly decision = "Invalid";
}
/** The proof's signature is not valid for the key in its own `jwk` header. */
export class DpopProofSignatureError extends AuthorizerError {
  override readonly name = "DpopProofSignatureError";
  readonly decision = "Invalid";
}
/** The proof's `htm` is not the request's method. */
export class DpopMethodMismatchError extends AuthorizerError {
  override readonly name = "DpopMethodMismatchError";
  readonly decision = "Invalid";
}
/** The proof's `htu` is not the request's URL (without query and fragment). */
export class DpopUrlMismatchError extends AuthorizerError {
  override readonly name = "DpopUrlMismatchError";
  readonly decision = "Invalid";
}
/** The proof's `iat` lies outside the window around now (DPOP_PROOF_WINDOW_SECONDS). */
export class DpopProofExpiredError extends AuthorizerError {
  override readonly name = "DpopProofExpiredError";
  readonly decision = "Invalid";
}
/** The proof's `ath` is not the base64url SHA-256 of the access token it came with. */
export class DpopAccessTokenHashError extends AuthorizerError {
  override readonly name = "DpopAccessTokenHashError";
  readonly decision = "Invalid";
}
/** The access token's `cnf.jkt` is not the thumbprint of the proof's key. */
export class DpopKeyMismatchError extends AuthorizerError {
  override readonly name = "DpopKeyMismatchError";
  readonly decision = "Invalid";
}
/** This container has already accepted a proof with this `jti` from this key within the window. */
export class DpopProofReplayedError extends AuthorizerError {
  override readonly name = "DpopProofReplayedError";
  readonly decision = "Invalid";
}

/** The asymmetric algorithms aws-jwt-verify verifies (its supportedSignatureAlgorithms). */
export const DPOP_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
/** A proof is a few hundred bytes (an RSA key makes it ~1 KB); anything this long is refused unparsed. */
export const MAX_PROOF_LENGTH = 8 * 1024;
/** A `jti` longer than this is refused, so that the replay cache stays small. */
export const MAX_JTI_LENGTH = 256;

/** JWK members that only private or symmetric keys have (RFC 7518 §6). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  RSA: ["e", "kty", "n"],
};

export const sha256Base64Url = (input: string | Buffer): string => createHash("sha256").update(input).digest("base64url");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public EC, OKP or RSA key. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = typeof jwk.kty === "string" ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
  if (!members) throw new DpopProofKeyError(`Expected a jwk of kty EC, OKP or RSA, found ${typeof jwk.kty === "string" ? jwk.kty : "none"}`);
  const required: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== "string" || value === "") throw new DpopProofKeyError(`Expected the jwk's ${member} as a string`);
    required[member] = value;
  }
  return sha256Base64Url(JSON.stringify(required));
}

/** `scheme://host[:port]/path` of an absolute URL (default port dropped, dot segments resolved), or undefined. */
export function comparableUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** What the proof must match: the request as API Gateway saw it, and the access token it came with. */
export interface ProofTarget {
  readonly method: string;
  /** The URLs the request may have been sent to (several when DPOP_PUBLIC_BASE_URL lists several). */
  readonly urls: readonly string[];
  readonly accessToken: string;
  /** The access token's `cnf.jkt`. */
  readonly jkt: string;
}

export interface DpopOptions {
  /** How far `iat` may lie from now, either way, in seconds. */
  readonly windowSeconds: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly replayCache: ReplayCache;
}

/** The proof's JOSE header: a JSON object, or the proof is malformed. */
function parseHeader(segment: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    header = undefined;
  }
  if (!isObject(header)) throw new DpopProofMalformedError("The proof is not a JWT");
  return header;
}

/** The header checks, before any crypto: typ, alg, a public jwk, no crit. Returns the jwk. */
function checkHeader(header: Record<string, unknown>): Record<string, unknown> {
  const typ = typeof header.typ === "string" ? normalizeTyp(header.typ) : undefined;
  if (typ !== "dpop+jwt") throw new DpopProofTypeError(`Expected typ dpop+jwt, found ${typ ?? "none"}`);
  if (!(DPOP_ALGORITHMS as readonly string[]).includes(String(header.alg))) {
    throw new DpopProofAlgorithmError(`Expected an asymmetric alg (${DPOP_ALGORITHMS.join(", ")}), found another`);
  }
  if (header.crit !== undefined) throw new DpopProofMalformedError("The proof's header has crit; no critical extension is supported");
  const jwk = header.jwk;
  if (!isObject(jwk)) throw new DpopProofKeyError("Expected the proof's public key in its jwk header, found none");
  const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (secret.length > 0) throw new DpopProofKeyError(`Expected a public jwk, found private or symmetric members (${secret.join(", ")})`);
  return jwk;
}

/**
 * Proof keys already turned into key objects, by RFC 7638 thumbprint. A client signs every proof with
 * the same key, and importing a JWK costs more than half of an ES256 verification; the thumbprint is a
 * SHA-256 over exactly the members the key is built from, so one thumbprint is one key. Bounded: it
 * starts over when full.
 */
const proofKeys = new Map<string, KeyObject>();
const MAX_PROOF_KEYS = 10_000;

function proofKeyObject(thumbprint: string, jwk: Record<string, unknown>): KeyObject {
  let key = proofKeys.get(thumbprint);
  if (!key) {
    key = createPublicKey({ key: jwk as never, format: "jwk" });
    if (proofKeys.size >= MAX_PROOF_KEYS) proofKeys.clear();
    proofKeys.set(thumbprint, key);
  }
  return key;
}

/** The signature, by aws-jwt-verify with the proof's own key; any failure of its is a failed proof. */
function checkSignature(proof: string, jwk: Record<string, unknown>, thumbprint: string): Record<string, unknown> {
  try {
    return verifyJwtSync(proof, jwk as Jwk, { issuer: null, audience: null }, () => proofKeyObject(thumbprint, jwk)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof JwtInvalidSignatureError) throw new DpopProofSignatureError("The proof's signature is not valid for its jwk");
    if (err instanceof JwtParseError) throw new DpopProofMalformedError("The proof is not a JWT");
    throw new DpopProofKeyError(`The proof could not be verified with its jwk (${(err as Error)?.constructor?.name ?? "error"})`);
  }
}

function stringClaim(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== "string" || value === "") throw new DpopProofMalformedError(`Expected a ${name} claim as a string, found none`);
  return value;
}

/**
 * Checks one DPoP proof against the request and the access token (RFC 9449 §4.3 and §7.1), in the
 * order: form, typ, alg, jwk, signature, claims, htm, htu, iat, ath, cnf.jkt, and last jti (so a proof
 * that fails any other check is not remembered). Throws one of the Dpop*Error classes above.
 */
export function verifyDpopProof(proof: string, target: ProofTarget, options: DpopOptions): void {
  if (proof.length > MAX_PROOF_LENGTH) throw new DpopProofMalformedError("The proof is too long");
  const segments = proof.trim().split(".");
  if (segments.length !== 3 || !segments.every(isCanonicalBase64Url)) throw new DpopProofMalformedError("The proof is not one compact JWS in canonical base64url");
  const compact = segments.join(".");
  // The header alone first (its jwk picks the key); aws-jwt-verify then parses the whole proof once,
  // verifies it with that key and returns the payload.
  const jwk = checkHeader(parseHeader(segments[0]));
  const thumbprint = jwkThumbprint(jwk);
  const payload = checkSignature(compact, jwk, thumbprint);

  const jti = stringClaim(payload, "jti");
  if (jti.length > MAX_JTI_LENGTH) throw new DpopProofMalformedError(`Expected a jti of at most ${MAX_JTI_LENGTH} characters`);
  const htm = stringClaim(payload, "htm");
  const htu = stringClaim(payload, "htu");
  if (typeof payload.iat !== "number" || !Number.isFinite(payload.iat)) throw new DpopProofMalformedError("Expected an iat claim as a number, found none");

  if (htm !== target.method) throw new DpopMethodMismatchError(`Expected htm ${target.method}, found another method`);
  const url = comparableUrl(htu);
  if (url === undefined || !target.urls.some((expected) => comparableUrl(expected) === url)) {
    throw new DpopUrlMismatchError(`Expected htu ${target.urls.join(" or ")}, found another URL`);
  }
  const nowSeconds = options.now() / 1000;
  if (Math.abs(nowSeconds - payload.iat) > options.windowSeconds) {
    throw new DpopProofExpiredError(`Expected iat within ${options.windowSeconds} s of now, found ${Math.round(payload.iat - nowSeconds)} s`);
  }
  if (payload.ath !== sha256Base64Url(target.accessToken)) throw new DpopAccessTokenHashError("Expected ath to be the SHA-256 of the access token");
  if (thumbprint !== target.jkt) throw new DpopKeyMismatchError("Expected the proof's key to be the one in the token's cnf.jkt");
  if (!options.replayCache.claim(`${thumbprint} ${jti}`, (payload.iat + options.windowSeconds) * 1000)) {
    throw new DpopProofReplayedError("This proof's jti was already used within the window");
  }
}
