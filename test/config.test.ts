import { loadConfig, type Env } from "../src/config";
import { ConfigError } from "../src/errors";

const POOL = { USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "client1" };
const noFiles = { readFile: (): string => { throw new Error("ENOENT: no such file"); }, baseDir: "/task" };

function errorOf(env: Env): ConfigError {
  try {
    loadConfig(env, noFiles);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("reads a Cognito pool with its clients, defaulting token use to access", () => {
    const config = loadConfig({ ...POOL, CLIENT_ID: "a, b" }, noFiles);
    expect(config.issuers).toEqual([
      { kind: "cognito", userPoolId: "eu-west-1_AbCdEf123", clientIds: ["a", "b"], tokenUse: "access" },
    ]);
    expect(config.accessRules).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads several pools and several OIDC issuers together", () => {
    const config = loadConfig(
      {
        USER_POOL_ID: "eu-west-1_AAA,us-east-1_BBB",
        CLIENT_ID: "c1",
        TOKEN_USE: "id",
        ISSUER: "https://idp.example.com,https://login.example.org/tenant",
        AUDIENCE: "api://pets",
      },
      noFiles,
    );
    expect(config.issuers.map((i) => (i.kind === "cognito" ? i.userPoolId : i.issuer))).toEqual([
      "eu-west-1_AAA",
      "us-east-1_BBB",
      "https://idp.example.com",
      "https://login.example.org/tenant",
    ]);
    expect(config.issuers.every((i) => i.tokenUse === "id")).toBe(true);
  });

  it("applies JWKS_URI to the single configured issuer", () => {
    const config = loadConfig({ ...POOL, JWKS_URI: "https://keys.internal/jwks.json" }, noFiles);
    expect(config.issuers[0].jwksUri).toBe("https://keys.internal/jwks.json");
  });

  it("reads numeric settings", () => {
    const config = loadConfig(
      { ...POOL, JWKS_FETCH_TIMEOUT_MS: "750", JWT_GRACE_SECONDS: "30", JWKS_PENALTY_SECONDS: "1" },
      noFiles,
    );
    expect([config.jwksFetchTimeoutMs, config.graceSeconds, config.jwksPenaltySeconds]).toEqual([750, 30, 1]);
  });

  it("defaults the key-set and time settings when they are missing", () => {
    const config = loadConfig(POOL, noFiles);
    expect(config).toMatchObject({ clockSkewSeconds: 60, jwksMaxAgeSeconds: 3600, jwksStaleGraceSeconds: 21600, graceSeconds: 0 });
    expect(config.requiredTyp).toBeUndefined();
  });

  it("reads the key-set refresh, clock-skew and typ settings", () => {
    const config = loadConfig(
      { ...POOL, JWKS_MAX_AGE_SECONDS: "2", JWKS_STALE_GRACE_SECONDS: "0", JWT_CLOCK_SKEW_SECONDS: "5", JWT_TYP: "at+jwt, Application/JWT" },
      noFiles,
    );
    expect(config).toMatchObject({ jwksMaxAgeSeconds: 2, jwksStaleGraceSeconds: 0, clockSkewSeconds: 5, requiredTyp: ["at+jwt", "jwt"] });
  });

  it("defaults the sender-constraint settings: bound tokens refused, a 60 s proof window, URLs from the event", () => {
    const config = loadConfig(POOL, noFiles);
    expect(config).toMatchObject({ boundTokens: "refuse", dpopProofWindowSeconds: 60 });
    expect(config.dpopPublicBaseUrls).toBeUndefined();
  });

  it("reads the sender-constraint settings, normalising the base URLs", () => {
    const config = loadConfig(
      { ...POOL, BOUND_TOKENS: "require", DPOP_PROOF_WINDOW_SECONDS: "30", DPOP_PUBLIC_BASE_URL: "https://API.example.com:443/v1, https://pets.example.com" },
      noFiles,
    );
    expect(config).toMatchObject({ boundTokens: "require", dpopProofWindowSeconds: 30, dpopPublicBaseUrls: ["https://api.example.com/v1", "https://pets.example.com"] });
  });

  it("loads access rules inline and from a file relative to the task root", () => {
    const rules = '{"rules":[{"route":"GET /pets","scopes":["pets/read"]}]}';
    expect(loadConfig({ ...POOL, ACCESS_RULES: rules }, noFiles).accessRules?.rules[0].exactResources).toEqual(["GET/pets"]);
    const read: string[] = [];
    const io = { readFile: (p: string) => (read.push(p), rules), baseDir: "/var/task" };
    expect(loadConfig({ ...POOL, ACCESS_RULES_FILE: "rules.json" }, io).accessRules?.rules).toHaveLength(1);
    expect(read).toEqual(["/var/task/rules.json"]);
  });

  it.each<[string, Env, string]>([
    ["nothing configured", {}, "USER_POOL_ID"],
    ["a pool without clients", { USER_POOL_ID: "eu-west-1_AbC" }, "CLIENT_ID"],
    ["an issuer without audience", { ISSUER: "https://idp.example.com" }, "AUDIENCE"],
    ["a malformed pool id", { ...POOL, USER_POOL_ID: "not-a-pool" }, "USER_POOL_ID"],
    ["an empty pool id", { ...POOL, USER_POOL_ID: "  " }, "USER_POOL_ID"],
    ["an empty client id entry", { ...POOL, CLIENT_ID: "a,,b" }, "CLIENT_ID"],
    ["an http issuer", { ISSUER: "http://idp.example.com", AUDIENCE: "x" }, "ISSUER"],
    ["an issuer that is no URL", { ISSUER: "idp", AUDIENCE: "x" }, "ISSUER"],
    ["an http key-set URL", { ...POOL, JWKS_URI: "http://127.0.0.1/jwks" }, "JWKS_URI"],
    ["JWKS_URI with two issuers", { ...POOL, ISSUER: "https://a.example", AUDIENCE: "x", JWKS_URI: "https://k" }, "JWKS_URI"],
    ["an unknown token use", { ...POOL, TOKEN_USE: "refresh" }, "TOKEN_USE"],
    ["CLIENT_ID without a pool", { ISSUER: "https://a.example", AUDIENCE: "x", CLIENT_ID: "c" }, "CLIENT_ID"],
    ["AUDIENCE without an issuer", { ...POOL, AUDIENCE: "x" }, "AUDIENCE"],
    ["a non-numeric timeout", { ...POOL, JWKS_FETCH_TIMEOUT_MS: "fast" }, "JWKS_FETCH_TIMEOUT_MS"],
    ["a negative grace", { ...POOL, JWT_GRACE_SECONDS: "-5" }, "JWT_GRACE_SECONDS"],
    ["an empty penalty", { ...POOL, JWKS_PENALTY_SECONDS: "" }, "JWKS_PENALTY_SECONDS"],
    ["a max-age of 0", { ...POOL, JWKS_MAX_AGE_SECONDS: "0" }, "JWKS_MAX_AGE_SECONDS"],
    ["a max-age over a day", { ...POOL, JWKS_MAX_AGE_SECONDS: "86401" }, "JWKS_MAX_AGE_SECONDS"],
    ["an empty stale grace", { ...POOL, JWKS_STALE_GRACE_SECONDS: "" }, "JWKS_STALE_GRACE_SECONDS"],
    ["a stale grace over a week", { ...POOL, JWKS_STALE_GRACE_SECONDS: "604801" }, "JWKS_STALE_GRACE_SECONDS"],
    ["a clock skew over 5 minutes", { ...POOL, JWT_CLOCK_SKEW_SECONDS: "301" }, "JWT_CLOCK_SKEW_SECONDS"],
    ["a clock skew in minutes", { ...POOL, JWT_CLOCK_SKEW_SECONDS: "1m" }, "JWT_CLOCK_SKEW_SECONDS"],
    ["an empty typ", { ...POOL, JWT_TYP: " " }, "JWT_TYP"],
    ["a typ that is no media type", { ...POOL, JWT_TYP: "at jwt" }, "JWT_TYP"],
    ["an empty typ entry", { ...POOL, JWT_TYP: "at+jwt,," }, "JWT_TYP"],
    ["rules that are not JSON", { ...POOL, ACCESS_RULES: "{rules:" }, "ACCESS_RULES"],
    ["rules with an unknown field", { ...POOL, ACCESS_RULES: '{"rules":[{"route":"GET /","scope":["a"]}]}' }, "ACCESS_RULES"],
    ["both rule sources", { ...POOL, ACCESS_RULES: "{}", ACCESS_RULES_FILE: "r.json" }, "ACCESS_RULES"],
    ["an unreadable rules file", { ...POOL, ACCESS_RULES_FILE: "missing.json" }, "ACCESS_RULES_FILE"],
    ["an unknown bound-token mode", { ...POOL, BOUND_TOKENS: "optional" }, "BOUND_TOKENS"],
    ["an empty bound-token mode", { ...POOL, BOUND_TOKENS: "" }, "BOUND_TOKENS"],
    ["a proof window of 0", { ...POOL, DPOP_PROOF_WINDOW_SECONDS: "0" }, "DPOP_PROOF_WINDOW_SECONDS"],
    ["a proof window over 10 minutes", { ...POOL, DPOP_PROOF_WINDOW_SECONDS: "601" }, "DPOP_PROOF_WINDOW_SECONDS"],
    ["an empty public base URL", { ...POOL, DPOP_PUBLIC_BASE_URL: " " }, "DPOP_PUBLIC_BASE_URL"],
    ["an http:// public base URL", { ...POOL, DPOP_PUBLIC_BASE_URL: "http://api.example.com" }, "DPOP_PUBLIC_BASE_URL"],
    ["a public base URL with a trailing slash", { ...POOL, DPOP_PUBLIC_BASE_URL: "https://api.example.com/" }, "DPOP_PUBLIC_BASE_URL"],
    ["a public base URL with a query", { ...POOL, DPOP_PUBLIC_BASE_URL: "https://api.example.com/v1?x=1" }, "DPOP_PUBLIC_BASE_URL"],
    ["a public base URL that is not a URL", { ...POOL, DPOP_PUBLIC_BASE_URL: "api.example.com" }, "DPOP_PUBLIC_BASE_URL"],
  ])("rejects %s, naming %s", (_case, env, variable) => {
    const err = errorOf(env);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(variable)).toBe(true);
  });

  it("says what was expected and what was found", () => {
    expect(errorOf({ ...POOL, TOKEN_USE: "refresh" }).message).toBe('TOKEN_USE must be "access" or "id", got "refresh"');
    expect(errorOf({ ...POOL, JWKS_FETCH_TIMEOUT_MS: "fast" }).message).toContain("whole number from 100 to 30000");
  });
});
