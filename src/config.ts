import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "./errors";
import { type AccessRules, parseAccessRules } from "./access";
import { normalizeTyp } from "./claim-checks";

export const DEFAULT_SERVICE_NAME = "jwt-authorizer";
export const DEFAULT_METRICS_NAMESPACE = "JwtAuthorizer";
export const DEFAULT_JWKS_FETCH_TIMEOUT_MS = 2000;
export const DEFAULT_JWKS_PENALTY_SECONDS = 10;
export const DEFAULT_GRACE_SECONDS = 0;
/** How far in the future `iat` and `nbf` may lie: an issuer whose clock runs a little ahead. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** How long a fetched key set is used before it is fetched again (a shorter Cache-Control max-age wins). */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 3600;
/** How long keys stay in use past their max-age while every refresh fails (a flaky identity provider). */
export const DEFAULT_JWKS_STALE_GRACE_SECONDS = 6 * 3600;
/** API Gateway caps header values well below this; anything longer is rejected before parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
/** How far a DPoP proof's `iat` may lie from now, either way (RFC 9449 §11.1: a relatively brief period). */
export const DEFAULT_DPOP_PROOF_WINDOW_SECONDS = 60;

/**
 * What to do with sender-constrained tokens (a `cnf` claim: RFC 8705 `x5t#S256`, RFC 9449 `jkt`):
 * - refuse:  a token with `cnf` is a 401. The default: it is the only mode in which an API Gateway
 *            cache keyed on the token can never hand a bound token's answer to another sender;
 * - accept:  a token with `cnf` must prove its binding (client certificate or DPoP proof); tokens
 *            without `cnf` are bearer tokens as before;
 * - require: every token must carry `cnf` and prove it.
 */
export const BOUND_TOKEN_MODES = ["refuse", "accept", "require"] as const;
export type BoundTokenMode = (typeof BOUND_TOKEN_MODES)[number];

export type TokenUse = "access" | "id";

export interface CognitoIssuerConfig {
  readonly kind: "cognito";
  readonly userPoolId: string;
  readonly clientIds: readonly string[];
  readonly tokenUse: TokenUse;
  readonly jwksUri?: string;
}

export interface OidcIssuerConfig {
  readonly kind: "oidc";
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly tokenUse?: TokenUse;
  readonly jwksUri?: string;
}

export type IssuerConfig = CognitoIssuerConfig | OidcIssuerConfig;

export interface Config {
  readonly issuers: readonly IssuerConfig[];
  /** Clock-skew grace for `exp` (and the floor of clockSkewSeconds for `nbf` and `iat`). */
  readonly graceSeconds: number;
  /** How far in the future `iat` and `nbf` may be. */
  readonly clockSkewSeconds: number;
  /**
   * When set, the JWS header's `typ` must be one of these, lower-cased and without an
   * `application/` prefix (RFC 7515 §4.1.9), e.g. ["at+jwt"] (RFC 9068).
   */
  readonly requiredTyp?: readonly string[];
  readonly jwksMaxAgeSeconds: number;
  readonly jwksStaleGraceSeconds: number;
  readonly jwksFetchTimeoutMs: number;
  readonly jwksPenaltySeconds: number;
  /** undefined: no rules, any valid token may call the whole stage. */
  readonly accessRules?: AccessRules;
  /** BOUND_TOKENS: what sender-constrained tokens get (see BOUND_TOKEN_MODES). */
  readonly boundTokens: BoundTokenMode;
  /** How far a DPoP proof's `iat` may lie from now, either way, in seconds; also how long its `jti` is remembered. */
  readonly dpopProofWindowSeconds: number;
  /**
   * DPOP_PUBLIC_BASE_URL: the public base URLs (scheme, host, base path, no trailing slash) a DPoP
   * proof's `htu` may name, followed by the path within the stage. undefined: the URL is rebuilt
   * from the event as `https://{domainName}/{stage}` (no stage segment for `$default`).
   */
  readonly dpopPublicBaseUrls?: readonly string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigIo {
  readFile(path: string): string;
  /** Where a relative ACCESS_RULES_FILE is looked up. */
  baseDir: string;
}

const defaultIo = (env: Env): ConfigIo => ({
  readFile: (path) => readFileSync(path, "utf8"),
  baseDir: env.LAMBDA_TASK_ROOT ?? process.cwd(),
});

/** Every variable the authorizer reads, for the README and for the template consistency test. */
export const CONFIG_VARIABLES = [
  "USER_POOL_ID",
  "CLIENT_ID",
  "TOKEN_USE",
  "ISSUER",
  "AUDIENCE",
  "JWKS_URI",
  "JWKS_FETCH_TIMEOUT_MS",
  "JWKS_PENALTY_SECONDS",
  "JWT_GRACE_SECONDS",
  "JWT_CLOCK_SKEW_SECONDS",
  "JWT_TYP",
  "JWKS_MAX_AGE_SECONDS",
  "JWKS_STALE_GRACE_SECONDS",
  "ACCESS_RULES",
  "ACCESS_RULES_FILE",
  "BOUND_TOKENS",
  "DPOP_PROOF_WINDOW_SECONDS",
  "DPOP_PUBLIC_BASE_URL",
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_METRICS_NAMESPACE",
] as const;

const USER_POOL_ID = /^(\w+-)?\w+-\w+-\d_\w+$/;

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (trimmed === "") throw new ConfigError(name, "is set but empty; unset it or give a value");
  return trimmed;
}

function list(env: Env, name: string, form: string): string[] | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new ConfigError(name, `has an empty entry; expected ${form}, got "${raw}"`);
  }
  return items;
}

function httpsUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an https:// URL, got "${raw}"`);
  }
  if (url.protocol !== "https:") {
    throw new ConfigError(name, `must be an https:// URL (keys are only fetched over HTTPS), got "${raw}"`);
  }
  return raw;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** A media type as `typ` carries it: `at+jwt`, `JWT`, `application/at+jwt`. */
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+(\/[A-Za-z0-9!#$&^_.+-]+)?$/;

function requiredTyp(env: Env): string[] | undefined {
  const values = list(env, "JWT_TYP", "comma-separated JWT types like at+jwt");
  if (values === undefined) return undefined;
  const bad = values.find((v) => !MEDIA_TYPE.test(v));
  if (bad !== undefined) throw new ConfigError("JWT_TYP", `must be comma-separated media types like at+jwt, got "${bad}"`);
  return values.map(normalizeTyp);
}

function tokenUse(env: Env): TokenUse | undefined {
  const raw = value(env, "TOKEN_USE");
  if (raw === undefined) return undefined;
  if (raw !== "access" && raw !== "id") {
    throw new ConfigError("TOKEN_USE", `must be "access" or "id", got "${raw}"`);
  }
  return raw;
}

function issuers(env: Env): IssuerConfig[] {
  const poolIds = list(env, "USER_POOL_ID", "comma-separated user pool ids like eu-west-1_AbCdEf123");
  const clientIds = list(env, "CLIENT_ID", "comma-separated app client ids");
  const oidcIssuers = list(env, "ISSUER", "comma-separated https:// issuer URLs");
  const audiences = list(env, "AUDIENCE", "comma-separated audiences or client ids");
  const use = tokenUse(env);
  const jwksUriRaw = value(env, "JWKS_URI");
  const jwksUri = jwksUriRaw === undefined ? undefined : httpsUrl("JWKS_URI", jwksUriRaw);

  if (!poolIds && !oidcIssuers) {
    throw new ConfigError(
      "USER_POOL_ID",
      "or ISSUER is required: set USER_POOL_ID (with CLIENT_ID) for Cognito, or ISSUER (with AUDIENCE) for another OIDC issuer",
    );
  }
  if (clientIds && !poolIds) {
    throw new ConfigError("CLIENT_ID", "is set without USER_POOL_ID; it only applies to Cognito user pools");
  }
  if (audiences && !oidcIssuers) {
    throw new ConfigError("AUDIENCE", "is set without ISSUER; it only applies to OIDC issuers");
  }

  const result: IssuerConfig[] = [];
  for (const userPoolId of poolIds ?? []) {
    if (!USER_POOL_ID.test(userPoolId)) {
      throw new ConfigError("USER_POOL_ID", `must be like eu-west-1_AbCdEf123, got "${userPoolId}"`);
    }
    if (!clientIds) {
      throw new ConfigError("CLIENT_ID", "is required with USER_POOL_ID: the app client ids whose tokens are accepted");
    }
    result.push({ kind: "cognito", userPoolId, clientIds, tokenUse: use ?? "access" });
  }
  for (const issuer of oidcIssuers ?? []) {
    httpsUrl("ISSUER", issuer);
    if (!audiences) {
      throw new ConfigError("AUDIENCE", "is required with ISSUER: the audiences (or client ids) whose tokens are accepted");
    }
    result.push({ kind: "oidc", issuer, audiences, ...(use ? { tokenUse: use } : {}) });
  }
  if (jwksUri !== undefined) {
    if (result.length !== 1) {
      throw new ConfigError(
        "JWKS_URI",
        `overrides the key-set URL of a single issuer, but ${result.length} issuers are configured`,
      );
    }
    result[0] = { ...result[0], jwksUri };
  }
  return result;
}

function accessRules(env: Env, io: ConfigIo): AccessRules | undefined {
  const inline = value(env, "ACCESS_RULES");
  const file = value(env, "ACCESS_RULES_FILE");
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError("ACCESS_RULES", "and ACCESS_RULES_FILE are both set; use one of them");
  }
  if (inline !== undefined) return parseAccessRules(inline, "ACCESS_RULES");
  if (file === undefined) return undefined;
  const path = isAbsolute(file) ? file : resolve(io.baseDir, file);
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    throw new ConfigError("ACCESS_RULES_FILE", `cannot be read at ${path}: ${(err as Error).message}`);
  }
  return parseAccessRules(text, "ACCESS_RULES_FILE");
}

function boundTokens(env: Env): BoundTokenMode {
  const raw = value(env, "BOUND_TOKENS");
  if (raw === undefined) return "refuse";
  if (!(BOUND_TOKEN_MODES as readonly string[]).includes(raw)) {
    throw new ConfigError("BOUND_TOKENS", `must be one of ${BOUND_TOKEN_MODES.join(", ")}, got "${raw}"`);
  }
  return raw as BoundTokenMode;
}

/** `https://host[:port][/base/path]`, without query, fragment, credentials or a trailing slash. */
function publicBaseUrls(env: Env): string[] | undefined {
  const values = list(env, "DPOP_PUBLIC_BASE_URL", "comma-separated https:// base URLs like https://api.example.com/v1");
  if (values === undefined) return undefined;
  return values.map((raw) => {
    httpsUrl("DPOP_PUBLIC_BASE_URL", raw);
    const url = new URL(raw);
    if (url.search || url.hash || url.username || url.password || raw.includes("?") || raw.includes("#") || raw.endsWith("/")) {
      throw new ConfigError("DPOP_PUBLIC_BASE_URL", `must be https://host[/base/path] without query, fragment, credentials or a trailing slash, got "${raw}"`);
    }
    return `${url.origin}${url.pathname === "/" ? "" : url.pathname}`;
  });
}

/** Reads and validates the whole configuration once; every error names its variable. */
export function loadConfig(env: Env, io: ConfigIo = defaultIo(env)): Config {
  return Object.freeze({
    issuers: Object.freeze(issuers(env)),
    graceSeconds: integer(env, "JWT_GRACE_SECONDS", DEFAULT_GRACE_SECONDS, 0, 600),
    clockSkewSeconds: integer(env, "JWT_CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW_SECONDS, 0, 300),
    requiredTyp: requiredTyp(env),
    jwksMaxAgeSeconds: integer(env, "JWKS_MAX_AGE_SECONDS", DEFAULT_JWKS_MAX_AGE_SECONDS, 1, 86400),
    jwksStaleGraceSeconds: integer(env, "JWKS_STALE_GRACE_SECONDS", DEFAULT_JWKS_STALE_GRACE_SECONDS, 0, 7 * 86400),
    jwksFetchTimeoutMs: integer(env, "JWKS_FETCH_TIMEOUT_MS", DEFAULT_JWKS_FETCH_TIMEOUT_MS, 100, 30000),
    jwksPenaltySeconds: integer(env, "JWKS_PENALTY_SECONDS", DEFAULT_JWKS_PENALTY_SECONDS, 0, 3600),
    accessRules: accessRules(env, io),
    boundTokens: boundTokens(env),
    dpopProofWindowSeconds: integer(env, "DPOP_PROOF_WINDOW_SECONDS", DEFAULT_DPOP_PROOF_WINDOW_SECONDS, 1, 600),
    dpopPublicBaseUrls: publicBaseUrls(env),
  });
}
