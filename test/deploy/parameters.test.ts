/**
 * Every template parameter does something: it either reaches the authorizer's environment, where
 * loadConfig accepts it and the configuration shows its value, or it configures the infrastructure
 * around the function. Parameter constraints and loadConfig agree on what is valid.
 */
import { CONFIG_VARIABLES, loadConfig, type Config } from "../../src/config";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Json, type JsonObject, loadTemplate, referencedNames, REPO_ROOT, resolveTemplate } from "./cfn";

const template = loadTemplate();
const PARAMETERS = Object.keys(template.Parameters);

function functionEnv(parameters: Record<string, string>): Record<string, string> {
  const resolved = resolveTemplate(template, { parameters });
  const env = (resolved.resources.AuthorizerFunction.Properties.Environment as JsonObject).Variables as JsonObject;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** variable → the parameters its value is built from, read from the template itself. */
const ENV_SOURCES: Record<string, string[]> = Object.fromEntries(
  Object.entries((template.Resources.AuthorizerFunction.Properties!.Environment as JsonObject).Variables as JsonObject).map(
    ([name, value]: [string, Json]) => [name, referencedNames(value).filter((n) => PARAMETERS.includes(n))],
  ),
);
const ENV_PARAMETERS = new Set(Object.values(ENV_SOURCES).flat());

/** Parameters that shape the infrastructure around the function, and where each one goes. */
const INFRASTRUCTURE: Record<string, string> = {
  AuthorizerCacheTtl: "the REST authorizer's ReauthorizeEvery",
  Architecture: "the function's Architectures (and so the image sam build builds)",
  MemorySize: "the function's MemorySize",
  Timeout: "the function's Timeout",
  ReservedConcurrency: "the function's ReservedConcurrentExecutions",
  ProvisionedConcurrency: "the live alias's ProvisionedConcurrencyConfig",
  DeploymentType: "the function's DeploymentPreference",
  RollbackLatencyThresholdMs: "the AuthorizerLatencyAlarm threshold",
  ConfigRevision: "the published version's description (a new version when it changes)",
  StageName: "both APIs' stage",
  AuthRealm: "the REST API's WWW-Authenticate headers",
  CorsAllowOrigin: "the REST API's error responses' CORS headers",
  CreateApiGatewayCloudWatchRole: "the API Gateway account's CloudWatch role",
  LogRetentionDays: "every log group's retention",
  LogGroupDeletionPolicy: "every log group's DeletionPolicy and UpdateReplacePolicy",
  AlarmEmail: "the alarm topic's e-mail subscription",
  AlarmTopicKmsKeyId: "the alarm topic's KmsMasterKeyId",
  Api4xxRateThreshold: "the two optional 4XX-rate alarms",
};

/** A Cognito deployment, or an OIDC one where the test says so. */
const OIDC = { UserPoolId: "", AllowedClientIds: "", Issuer: "https://login.example.com/tenant", Audience: "api://pets" };

/** For each parameter that reaches the environment: a value other than its default, and what loadConfig makes of it. */
const SAMPLES: Record<string, { parameters: Record<string, string>; expect: (config: Config) => void }> = {
  UserPoolId: {
    parameters: { UserPoolId: "eu-west-1_AbCdEf123,us-east-1_XyZ987654" },
    expect: (c) => expect(c.issuers.map((i) => (i.kind === "cognito" ? i.userPoolId : i.issuer))).toEqual(["eu-west-1_AbCdEf123", "us-east-1_XyZ987654"]),
  },
  AllowedClientIds: {
    parameters: { AllowedClientIds: "clientone,clienttwo" },
    expect: (c) => expect(c.issuers[0]).toMatchObject({ kind: "cognito", clientIds: ["clientone", "clienttwo"] }),
  },
  Issuer: {
    parameters: { ...OIDC, Issuer: "https://login.example.com/a,https://login.example.com/b" },
    expect: (c) => expect(c.issuers.map((i) => i.kind === "oidc" && i.issuer)).toEqual(["https://login.example.com/a", "https://login.example.com/b"]),
  },
  Audience: {
    parameters: { ...OIDC, Audience: "api://pets,spa-client" },
    expect: (c) => expect(c.issuers[0]).toMatchObject({ kind: "oidc", audiences: ["api://pets", "spa-client"] }),
  },
  TokenUse: {
    parameters: { TokenUse: "id" },
    expect: (c) => expect(c.issuers[0]).toMatchObject({ tokenUse: "id" }),
  },
  JwksUri: {
    parameters: { JwksUri: "https://vpce.example.com/jwks.json" },
    expect: (c) => expect(c.issuers[0]).toMatchObject({ jwksUri: "https://vpce.example.com/jwks.json" }),
  },
  JwtGraceSeconds: { parameters: { JwtGraceSeconds: "30" }, expect: (c) => expect(c.graceSeconds).toBe(30) },
  JwksFetchTimeoutMs: { parameters: { JwksFetchTimeoutMs: "1500" }, expect: (c) => expect(c.jwksFetchTimeoutMs).toBe(1500) },
  JwksPenaltySeconds: { parameters: { JwksPenaltySeconds: "30" }, expect: (c) => expect(c.jwksPenaltySeconds).toBe(30) },
  JwtClockSkewSeconds: { parameters: { JwtClockSkewSeconds: "120" }, expect: (c) => expect(c.clockSkewSeconds).toBe(120) },
  JwtTyp: { parameters: { JwtTyp: "at+jwt,application/jwt" }, expect: (c) => expect(c.requiredTyp).toEqual(["at+jwt", "jwt"]) },
  JwksMaxAgeSeconds: { parameters: { JwksMaxAgeSeconds: "600" }, expect: (c) => expect(c.jwksMaxAgeSeconds).toBe(600) },
  JwksStaleGraceSeconds: { parameters: { JwksStaleGraceSeconds: "0" }, expect: (c) => expect(c.jwksStaleGraceSeconds).toBe(0) },
  AccessRules: {
    parameters: { AccessRules: '{"rules":[{"route":"GET /pets","scopes":["pets/read"]}]}' },
    expect: (c) => expect(c.accessRules).toBeDefined(),
  },
  BoundTokens: { parameters: { BoundTokens: "accept" }, expect: (c) => expect(c.boundTokens).toBe("accept") },
  DpopPublicBaseUrl: {
    parameters: { DpopPublicBaseUrl: "https://api.example.com/v1,https://pets.example.com" },
    expect: (c) => expect(c.dpopPublicBaseUrls).toEqual(["https://api.example.com/v1", "https://pets.example.com"]),
  },
  DpopProofWindowSeconds: { parameters: { DpopProofWindowSeconds: "30" }, expect: (c) => expect(c.dpopProofWindowSeconds).toBe(30) },
  AccessRulesFile: {
    parameters: { AccessRulesFile: "access-rules.json" },
    // The file itself is checked in consistency.test.ts against the Dockerfile; here only the variable.
    expect: () => undefined,
  },
};

/** Parameters read by Powertools rather than loadConfig (consistency.test.ts checks what they do). */
const POWERTOOLS = ["LogLevel", "ServiceName", "MetricsNamespace"];

describe("every parameter does something", () => {
  it("either reaches the function's environment or configures something named here, never both", () => {
    const unaccounted = PARAMETERS.filter((p) => !ENV_PARAMETERS.has(p) && !(p in INFRASTRUCTURE));
    expect(unaccounted).toEqual([]);
    expect(Object.keys(INFRASTRUCTURE).filter((p) => ENV_PARAMETERS.has(p))).toEqual([]);
    expect(Object.keys(INFRASTRUCTURE).filter((p) => !PARAMETERS.includes(p))).toEqual([]);
  });

  it("lists every parameter exactly once in the console's parameter groups", () => {
    const groups = (template as unknown as { Metadata: { "AWS::CloudFormation::Interface": { ParameterGroups: { Parameters: string[] }[] } } })
      .Metadata["AWS::CloudFormation::Interface"].ParameterGroups;
    const listed = groups.flatMap((g) => g.Parameters);
    expect([...listed].sort()).toEqual([...PARAMETERS].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it("refers to every infrastructure parameter outside the function's environment", () => {
    const fnRest = { ...template.Resources.AuthorizerFunction.Properties! };
    delete fnRest.Environment;
    const elsewhere = new Set(
      referencedNames({
        resources: { ...template.Resources, AuthorizerFunction: { ...template.Resources.AuthorizerFunction, Properties: fnRest } },
        conditions: template.Conditions ?? {},
        outputs: template.Outputs ?? {},
      }),
    );
    expect(Object.keys(INFRASTRUCTURE).filter((p) => !elsewhere.has(p))).toEqual([]);
  });

  it("offers every variable the code reads as a parameter, so nothing is set by hand", () => {
    const set = new Set(Object.keys(ENV_SOURCES).filter((v) => ENV_SOURCES[v].length > 0));
    expect(CONFIG_VARIABLES.filter((v) => !set.has(v))).toEqual([]);
  });

  it("has a sample, other than the default, for every parameter that reaches loadConfig", () => {
    const viaLoadConfig = [...ENV_PARAMETERS].filter((p) => !POWERTOOLS.includes(p)).sort();
    expect(Object.keys(SAMPLES).sort()).toEqual(viaLoadConfig);
  });

  it.each(Object.entries(SAMPLES))("%s reaches the environment, and loadConfig accepts it and uses its value", (name, sample) => {
    const env = functionEnv(sample.parameters);
    const variable = Object.keys(ENV_SOURCES).find((v) => ENV_SOURCES[v].includes(name))!;
    expect(env[variable]).toBe(sample.parameters[name]);
    expect(functionEnv({ ...sample.parameters, [name]: String(template.Parameters[name].Default ?? "") })[variable]).not.toBe(sample.parameters[name]);
    const config = loadConfig(env, { baseDir: "/var/task", readFile: () => readFileSync(join(REPO_ROOT, "access-rules.example.json"), "utf8") });
    sample.expect(config);
  });

  it("leaves a variable out, rather than empty, when its optional parameter is empty (loadConfig refuses empty values)", () => {
    const oidc = functionEnv(OIDC);
    expect(Object.keys(oidc).filter((k) => ["USER_POOL_ID", "CLIENT_ID", "JWKS_URI"].includes(k))).toEqual([]);
    expect(loadConfig(oidc).issuers).toEqual([{ kind: "oidc", issuer: OIDC.Issuer, audiences: [OIDC.Audience], tokenUse: "access" }]);
    const unchecked = functionEnv({ ...OIDC, TokenUse: "" });
    expect("TOKEN_USE" in unchecked).toBe(false);
    expect(loadConfig(unchecked).issuers[0]).not.toHaveProperty("tokenUse");
    expect(() => loadConfig({ ...unchecked, TOKEN_USE: "" })).toThrow(/TOKEN_USE/);
  });

  it("sets Cognito and OIDC issuers side by side", () => {
    const both = functionEnv({ Issuer: OIDC.Issuer, Audience: OIDC.Audience });
    expect(loadConfig(both).issuers.map((i) => i.kind)).toEqual(["cognito", "oidc"]);
  });
});

describe("parameter constraints agree with loadConfig", () => {
  const accepts = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return true;
    } catch {
      return false;
    }
  };
  const pattern = (name: string) => new RegExp(String(template.Parameters[name].AllowedPattern));

  it("UserPoolId: the same pool ids, one or several (the template also refuses spaces, which the code trims)", () => {
    const samples = ["eu-west-1_AbCdEf123", "eu-west-1_AbCdEf123,us-gov-west-1_abc", "eu-west-1_AbCdEf123,", "eu-west-1AbCdEf123", "https://example.com"];
    expect(samples.map((s) => pattern("UserPoolId").test(s))).toEqual(samples.map((s) => accepts({ USER_POOL_ID: s, CLIENT_ID: "abc" })));
    expect(samples.map((s) => pattern("UserPoolId").test(s))).toEqual([true, true, false, false, false]);
    const spaced = "eu-west-1_AbCdEf123, us-east-1_x";
    expect([pattern("UserPoolId").test(spaced), accepts({ USER_POOL_ID: spaced, CLIENT_ID: "abc" })]).toEqual([false, true]);
  });

  it("Issuer and JwksUri: https:// only", () => {
    const issuers = ["https://login.example.com", "https://a.example.com,https://b.example.com", "http://login.example.com", "login.example.com"];
    expect(issuers.map((s) => pattern("Issuer").test(s))).toEqual(issuers.map((s) => accepts({ ISSUER: s, AUDIENCE: "api" })));
    expect(issuers.map((s) => pattern("Issuer").test(s))).toEqual([true, true, false, false]);
    const uris = ["https://keys.example.com/jwks.json", "http://keys.example.com/jwks.json"];
    expect(uris.map((s) => pattern("JwksUri").test(s))).toEqual(uris.map((s) => accepts({ ISSUER: "https://a.example.com", AUDIENCE: "api", JWKS_URI: s })));
  });

  it.each([
    ["JwtGraceSeconds", "JWT_GRACE_SECONDS"],
    ["JwksFetchTimeoutMs", "JWKS_FETCH_TIMEOUT_MS"],
    ["JwksPenaltySeconds", "JWKS_PENALTY_SECONDS"],
    ["JwtClockSkewSeconds", "JWT_CLOCK_SKEW_SECONDS"],
    ["JwksMaxAgeSeconds", "JWKS_MAX_AGE_SECONDS"],
    ["JwksStaleGraceSeconds", "JWKS_STALE_GRACE_SECONDS"],
    ["DpopProofWindowSeconds", "DPOP_PROOF_WINDOW_SECONDS"],
  ])("%s: the same range as %s", (name, variable) => {
    const { MinValue, MaxValue } = template.Parameters[name];
    expect({ MinValue, MaxValue }).toEqual({ MinValue: expect.any(Number), MaxValue: expect.any(Number) });
    const cognito = { USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "abc" };
    const at = (n: number) => accepts({ ...cognito, [variable]: String(n) });
    expect([at(MinValue! - 1), at(MinValue!), at(MaxValue!), at(MaxValue! + 1)]).toEqual([false, true, true, false]);
  });

  it("StageName: what API Gateway allows (letters, digits, hyphens, underscores, at most 128)", () => {
    const samples = ["prod", "pre-prod", "v2_beta", "a".repeat(128), "a".repeat(129), "prod/v1", "$default", ""];
    expect(samples.map((s) => pattern("StageName").test(s))).toEqual([true, true, true, true, false, false, false, false]);
  });

  it("AlarmTopicKmsKeyId: a customer managed key, never an AWS managed one (CloudWatch cannot publish under it)", () => {
    const ok = ["", "alias/alarm-topic", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:eu-west-1:123456789012:alias/alarm-topic"];
    const refused = ["alias/aws/sns", "arn:aws:kms:eu-west-1:123456789012:alias/aws/sns", "alias/aws/other", "sns"];
    expect(ok.filter((k) => !pattern("AlarmTopicKmsKeyId").test(k))).toEqual([]);
    expect(refused.filter((k) => pattern("AlarmTopicKmsKeyId").test(k))).toEqual([]);
  });

  it("JwtTyp: the media types JWT_TYP takes", () => {
    const samples = ["at+jwt", "at+jwt,application/jwt", "JWT", "at jwt", "at+jwt,", "a/b/c"];
    const cognito = { USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "abc" };
    expect(samples.map((s) => pattern("JwtTyp").test(s))).toEqual(samples.map((s) => accepts({ ...cognito, JWT_TYP: s })));
    expect(samples.map((s) => pattern("JwtTyp").test(s))).toEqual([true, true, true, false, false, false]);
  });

  it("BoundTokens: the values BOUND_TOKENS takes", () => {
    const cognito = { USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "abc" };
    expect(template.Parameters.BoundTokens.AllowedValues!.map((v) => accepts({ ...cognito, BOUND_TOKENS: String(v) }))).toEqual([true, true, true]);
    expect(accepts({ ...cognito, BOUND_TOKENS: "optional" })).toBe(false);
  });

  it("DpopPublicBaseUrl: the base URLs DPOP_PUBLIC_BASE_URL takes", () => {
    const samples = ["https://api.example.com", "https://api.example.com/v1,https://b.example.com", "https://api.example.com/", "http://api.example.com", "https://api.example.com?x=1", "https://a.example.com, https://b.example.com"];
    const cognito = { USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "abc" };
    expect(samples.map((s) => pattern("DpopPublicBaseUrl").test(s))).toEqual([true, true, false, false, false, false]);
    expect(samples.slice(0, 5).map((s) => accepts({ ...cognito, DPOP_PUBLIC_BASE_URL: s }))).toEqual([true, true, false, false, false]);
  });

  it("TokenUse: the values TOKEN_USE takes, and empty for none", () => {
    expect(template.Parameters.TokenUse.AllowedValues).toEqual(["", "access", "id"]);
    expect(accepts({ USER_POOL_ID: "eu-west-1_AbCdEf123", CLIENT_ID: "abc", TOKEN_USE: "refresh" })).toBe(false);
  });
});
