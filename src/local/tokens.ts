import { createHash, type KeyObject, randomUUID, sign } from "node:crypto";

/**
 * The embedded default the local stack runs the authorizer with: a Cognito user pool id and app
 * client that exist nowhere but here. Tokens carry the pool's real Cognito issuer URL, whatever
 * host the keys are fetched from (JWKS_URI redirects only the key-set fetch), so one token
 * verifies both against `npm start` and against `docker compose up`.
 */
export const LOCAL_REGION = "eu-west-1";
export const LOCAL_USER_POOL_ID = `${LOCAL_REGION}_LocalDev`;
export const LOCAL_CLIENT_ID = "local-client";
export const LOCAL_ISSUER = `https://cognito-idp.${LOCAL_REGION}.amazonaws.com/${LOCAL_USER_POOL_ID}`;
export const DEFAULT_SUB = "0b0c0a1e-1111-4222-8333-444455556666";
export const DEFAULT_USERNAME = "local-user";
/** What a token gets when no scope is asked for: enough for `GET /pets` under the example rules. */
export const DEFAULT_SCOPES: readonly string[] = ["pets/read"];
export const DEFAULT_EXPIRES_IN_SECONDS = 3600;

/** What a minted token should carry; anything left out takes the local default. */
export interface MintOptions {
  scopes?: string[];
  groups?: string[];
  expired?: boolean;
  expiresInSeconds?: number;
  sub?: string;
  clientId?: string;
  tokenUse?: "access" | "id";
  claims?: Record<string, unknown>;
}

/** Token options as text, from a command line or an HTTP request; `names` says how each is spelled there (for errors). */
export interface MintInput {
  scope?: string[];
  group?: string[];
  expired?: boolean;
  expiresIn?: string;
  sub?: string;
  clientId?: string;
  tokenUse?: string;
  claim?: string[];
}

/**
 * The one parser of token options: scopes and groups are repeatable and space/comma separated,
 * expires-in is whole seconds, token-use is access or id, a claim is key=value with the value
 * parsed as JSON when it can be. Errors name the option as the caller spells it.
 */
export function parseMintOptions(input: MintInput, names: Readonly<Record<keyof MintInput, string>>): MintOptions {
  const split = (list: string[]) => list.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== "");
  const opts: MintOptions = {};
  if (input.scope) opts.scopes = split(input.scope);
  if (input.group) opts.groups = split(input.group);
  if (input.expired) opts.expired = true;
  if (input.expiresIn !== undefined) {
    if (!/^\d+$/.test(input.expiresIn)) throw new Error(`${names.expiresIn} must be a whole number of seconds, got "${input.expiresIn}"`);
    opts.expiresInSeconds = Number(input.expiresIn);
  }
  if (input.sub) opts.sub = input.sub;
  if (input.clientId) opts.clientId = input.clientId;
  if (input.tokenUse !== undefined) {
    if (input.tokenUse !== "access" && input.tokenUse !== "id") throw new Error(`${names.tokenUse} must be access or id, got "${input.tokenUse}"`);
    opts.tokenUse = input.tokenUse;
  }
  for (const claim of input.claim ?? []) {
    const eq = claim.indexOf("=");
    if (eq <= 0) throw new Error(`${names.claim} must be key=value, got "${claim}"`);
    const raw = claim.slice(eq + 1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = raw;
    }
    opts.claims = { ...opts.claims, [claim.slice(0, eq)]: parsed };
  }
  return opts;
}

/** The issuer's RS256 signing key and its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Readonly<Record<string, string>>;
}

/** RFC 7638 JWK thumbprint of an RSA public key: a stable key id across restarts. */
export function rsaThumbprint(jwk: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash("sha256").update(canonical).digest("base64url");
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const { kty, n, e } = privateKey.export({ format: "jwk" }) as Record<string, string>;
  const kid = rsaThumbprint({ kty, n, e });
  return { kid, privateKey, jwk: { kty, n, e, kid, alg: "RS256", use: "sig" } };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Cognito-shaped claims for an access (default) or ID token of the local pool. */
export function localClaims(opts: MintOptions = {}, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const lifetime = opts.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS;
  // An expired token: issued two lifetimes ago, expired one lifetime ago (at least an hour).
  const pastBy = Math.max(lifetime, 3600);
  const iat = opts.expired ? nowSeconds - 2 * pastBy : nowSeconds;
  const exp = opts.expired ? nowSeconds - pastBy : nowSeconds + lifetime;
  const clientId = opts.clientId ?? LOCAL_CLIENT_ID;
  const sub = opts.sub ?? DEFAULT_SUB;
  const groups = opts.groups ?? [];
  const common: Record<string, unknown> = {
    sub,
    iss: LOCAL_ISSUER,
    ...(groups.length > 0 ? { "cognito:groups": [...groups] } : {}),
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    auth_time: iat,
    iat,
    exp,
    jti: randomUUID(),
  };
  const claims =
    opts.tokenUse === "id"
      ? { ...common, aud: clientId, token_use: "id", "cognito:username": DEFAULT_USERNAME }
      : {
          ...common,
          client_id: clientId,
          token_use: "access",
          scope: (opts.scopes ?? DEFAULT_SCOPES).join(" "),
          version: 2,
          username: DEFAULT_USERNAME,
        };
  return { ...claims, ...opts.claims };
}

/** Signs Cognito-shaped claims with the local key (RS256, kid = the key's thumbprint). */
export function mintToken(key: SigningKey, opts: MintOptions = {}, nowSeconds?: number): string {
  const input = `${b64url({ kid: key.kid, alg: "RS256" })}.${b64url(localClaims(opts, nowSeconds))}`;
  const signature = sign("sha256", Buffer.from(input), key.privateKey).toString("base64url");
  return `${input}.${signature}`;
}
