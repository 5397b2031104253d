/**
 * Runs the AWS SAM translator (Python package aws-sam-translator) and cfn-lint offline over
 * template.yml: the translator is what CloudFormation's AWS::Serverless transform runs, so this shows
 * what API Gateway and Lambda really get. Both ship on this project's machine image (pip, Python 3.11).
 * Where a tool is missing, its checks are skipped with a message; in CI (CI=true) a missing tool
 * fails the run instead (see requireTool in ./tools).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonObject, loadTemplate, REPO_ROOT, resolveTemplate, SAMPLE_REQUIRED_PARAMETERS, TEMPLATE_PATH } from "./cfn";
import { resourceSpec, specDatabase } from "./cfn-spec";
import { describeWithTool } from "./tools";

const SCRIPT = join(__dirname, "sam_transform.py");
const childEnv = { ...process.env, AWS_DEFAULT_REGION: "eu-west-1" };

const hasTranslator = spawnSync("python3", ["-c", "import samtranslator"], { env: childEnv }).status === 0;
const hasCfnLint = spawnSync("cfn-lint", ["--version"], { env: childEnv }).status === 0;

interface Transformed {
  Resources: Record<string, { Type: string; Properties: JsonObject }>;
  Conditions?: Record<string, unknown>;
}

const transformed = new Map<string, Transformed>();
function transform(parameters: Record<string, string>): Transformed {
  const key = JSON.stringify(parameters);
  if (!transformed.has(key)) transformed.set(key, runTranslator(parameters));
  return transformed.get(key)!;
}

/** The translator over a variant of template.yml's text. */
function transformText(text: string, parameters: Record<string, string> = {}): Transformed {
  const path = join(mkdtempSync(join(tmpdir(), "sam-")), "template.yml");
  writeFileSync(path, text);
  return runTranslator(parameters, path);
}

function runTranslator(parameters: Record<string, string>, templatePath = TEMPLATE_PATH): Transformed {
  const run = spawnSync("python3", [SCRIPT, templatePath, JSON.stringify({ ...SAMPLE_REQUIRED_PARAMETERS, ...parameters })], {
    env: childEnv,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`SAM translator failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Transformed;
}

type Scheme = Record<string, unknown>;
function authorizerOf(resources: Transformed["Resources"], apiId: string): Scheme {
  const body = resources[apiId].Properties.Body as { components: { securitySchemes: Record<string, Record<string, Scheme>> } };
  return body.components.securitySchemes.JwtAuthorizer["x-amazon-apigateway-authorizer"];
}

const byType = (resources: Transformed["Resources"], type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describeWithTool(hasTranslator, "the SAM translator (python3 -c 'import samtranslator'; pip install aws-sam-translator)", "template.yml through the AWS SAM translator", () => {
  it("gives the REST API a REQUEST authorizer keyed on the Authorization header, method and path, cached for the TTL parameter unless bound tokens are checked", () => {
    for (const ttl of ["0", "300", "3600"]) {
      const transformed = transform({ AuthorizerCacheTtl: ttl });
      const rest = authorizerOf(transformed.Resources, "Api");
      expect(rest).toMatchObject({ type: "request", identitySource: "method.request.header.Authorization, context.httpMethod, context.path" });
      // SAM passes the condition through into the OpenAPI body, where CloudFormation resolves it.
      const [condition, whenChecking, otherwise] = (rest.authorizerResultTtlInSeconds as { "Fn::If": [string, number, unknown] })["Fn::If"];
      expect([condition, whenChecking, String(otherwise)]).toEqual(["ChecksBoundTokens", 0, ttl]);
      expect(transformed.Conditions).toHaveProperty("ChecksBoundTokens");
    }
  });

  it("gives the HTTP API a payload 2.0 simple-response authorizer, uncached", () => {
    const http = authorizerOf(transform({}).Resources, "HttpApi");
    expect(http).toMatchObject({
      type: "request",
      authorizerPayloadFormatVersion: "2.0",
      enableSimpleResponses: true,
      authorizerResultTtlInSeconds: 0,
      identitySource: ["$request.header.Authorization", "$context.httpMethod", "$context.path"],
    });
  });

  it("lets both APIs invoke the authorizer's live alias, and nothing else", () => {
    const { Resources } = transform({});
    const permissions = Object.values(Resources).filter(
      (r) => r.Type === "AWS::Lambda::Permission" && JSON.stringify(r.Properties.FunctionName).includes("AuthorizerFunction"),
    );
    const sources = permissions.map((p) => JSON.stringify(p.Properties.SourceArn));
    expect(permissions).toHaveLength(2);
    for (const p of permissions) expect(p.Properties.FunctionName).toEqual({ Ref: "AuthorizerFunctionAliaslive" });
    expect(Resources.AuthorizerFunctionAliaslive).toMatchObject({ Type: "AWS::Lambda::Alias", Properties: { Name: "live" } });
    for (const apiId of ["Api", "HttpApi"]) expect(JSON.stringify(authorizerOf(Resources, apiId).authorizerUri)).toContain("AuthorizerFunctionAliaslive");
    expect(sources.every((s) => s.includes("/authorizers/*"))).toBe(true);
    expect(sources.some((s) => s.includes('{"Ref":"Api"}'))).toBe(true);
    expect(sources.some((s) => s.includes('{"Ref":"HttpApi"}'))).toBe(true);
  });

  it("puts the authorizer on every route of both APIs", () => {
    const { Resources } = transform({});
    for (const apiId of ["Api", "HttpApi"]) {
      const paths = (Resources[apiId].Properties.Body as { paths: Record<string, Record<string, { security?: unknown }>> }).paths;
      const operations = Object.entries(paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ api: apiId, path, method, security: op.security })));
      expect(operations.length).toBeGreaterThan(0);
      for (const op of operations) expect(op).toEqual({ ...op, security: [{ JwtAuthorizer: [] }] });
    }
  });

  it("makes the authorizer an image function with active tracing, logging to its own log group", () => {
    const fn = transform({}).Resources.AuthorizerFunction.Properties;
    expect(fn).toMatchObject({ PackageType: "Image", TracingConfig: { Mode: "Active" }, LoggingConfig: { LogGroup: { Ref: "AuthorizerLogGroup" } } });
  });

  it("passes architecture, memory, timeout and reserved concurrency to the function, provisioned concurrency to the alias", () => {
    const { Resources } = transform({ Architecture: "arm64", MemorySize: "1024", Timeout: "5", ReservedConcurrency: "50", ProvisionedConcurrency: "2" });
    expect(Resources.AuthorizerFunction.Properties).toMatchObject({
      Architectures: [{ Ref: "Architecture" }],
      MemorySize: { Ref: "MemorySize" },
      Timeout: { Ref: "Timeout" },
      ReservedConcurrentExecutions: { "Fn::If": ["HasReservedConcurrency", { Ref: "ReservedConcurrency" }, { Ref: "AWS::NoValue" }] },
    });
    expect(Resources.AuthorizerFunctionAliaslive.Properties.ProvisionedConcurrencyConfig).toEqual({
      "Fn::If": ["HasProvisionedConcurrency", { ProvisionedConcurrentExecutions: { Ref: "ProvisionedConcurrency" } }, { Ref: "AWS::NoValue" }],
    });
  });

  it("publishes a new version for a changed literal property, and for a changed parameter only through ConfigRevision", () => {
    const versions = (r: Transformed["Resources"]) => byType(r, "AWS::Lambda::Version");
    const text = readFileSync(TEMPLATE_PATH, "utf8");
    const id = (t: string) => versions(transformText(t).Resources)[0][0];
    // A literal change of a property: a new logical id, so a new version (AutoPublishAliasAllProperties).
    const changedEnv = text.replace('POWERTOOLS_LOGGER_LOG_EVENT: "false"', 'POWERTOOLS_LOGGER_LOG_EVENT: "False"');
    expect(changedEnv).not.toBe(text);
    expect(id(changedEnv)).not.toBe(id(text));
    // A changed parameter value: the same version resource, unchanged (SAM hashes unresolved Refs)...
    const before = versions(transform({}).Resources);
    const after = versions(transform({ AllowedClientIds: "anotherclient", MemorySize: "1024" }).Resources);
    expect(after).toEqual(before);
    // ...unless ConfigRevision changes its Description, which CloudFormation can only apply by replacing
    // the version, that is by publishing a new one.
    const revised = versions(transform({ ConfigRevision: "2026-12-03" }).Resources);
    expect(revised[0][1].Properties.Description).toEqual({ "Fn::Sub": "configuration revision ${ConfigRevision}" });
    const description = (revision: string) =>
      resolveTemplate(loadTemplate(), { parameters: { ConfigRevision: revision } }).resources.AuthorizerFunction.Properties.VersionDescription;
    expect(description("1")).not.toEqual(description("2026-12-03"));
    const spec = resourceSpec(specDatabase(), "AWS::Lambda::Version")!;
    expect(spec.properties.Description.causesReplacement).toBe("yes");
  });

  it("shifts the alias through CodeDeploy only when DeploymentType asks, rolling back on the error and latency alarms", () => {
    const plain = transform({}).Resources;
    expect(byType(plain, "AWS::CodeDeploy::DeploymentGroup")).toEqual([]);
    expect(plain.AuthorizerFunctionAliaslive).not.toHaveProperty("UpdatePolicy");
    for (const type of ["Canary10Percent5Minutes", "Linear10PercentEvery1Minute", "AllAtOnce"]) {
      const r = transform({ DeploymentType: type }).Resources;
      const groups = byType(r, "AWS::CodeDeploy::DeploymentGroup");
      expect(groups).toHaveLength(1);
      const group = groups[0][1].Properties;
      expect(group.AlarmConfiguration).toEqual({ Enabled: true, Alarms: [{ Name: { Ref: "AuthorizerErrorAlarm" } }, { Name: { Ref: "AuthorizerLatencyAlarm" } }] });
      expect(JSON.stringify(group.DeploymentConfigName)).toContain(type);
      expect((group.AutoRollbackConfiguration as JsonObject).Events).toContain("DEPLOYMENT_STOP_ON_ALARM");
      expect((r.AuthorizerFunctionAliaslive as unknown as { UpdatePolicy: JsonObject }).UpdatePolicy).toHaveProperty("CodeDeployLambdaAliasUpdate");
    }
  });

  it("puts the RFC 6750 gateway responses into the REST API", () => {
    const body = transform({}).Resources.Api.Properties.Body as { "x-amazon-apigateway-gateway-responses": Record<string, JsonObject> };
    const responses = body["x-amazon-apigateway-gateway-responses"];
    expect(Object.keys(responses).sort()).toEqual(["ACCESS_DENIED", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE", "UNAUTHORIZED"]);
    expect(responses.UNAUTHORIZED).toMatchObject({ statusCode: "401", responseParameters: { "gatewayresponse.header.WWW-Authenticate": expect.anything() } });
  });

  it("redeploys the REST API on every update, else a changed realm or CORS origin would never reach the stage", () => {
    const text = readFileSync(TEMPLATE_PATH, "utf8");
    const deployment = (t: string, parameters: Record<string, string>) =>
      byType(transformText(t, parameters).Resources, "AWS::ApiGateway::Deployment").map(([id]) => id);
    const without = text.replace("      AlwaysDeploy: true\n", "");
    expect(without).not.toBe(text);
    // Without AlwaysDeploy the deployment's id hashes the body's text, where parameters are unresolved.
    expect(deployment(without, { AuthRealm: "one" })).toEqual(deployment(without, { AuthRealm: "two", CorsAllowOrigin: "*" }));
    // (SAM does resolve the cache TTL into the body, so that one changes the id by itself.)
    expect(deployment(without, { AuthorizerCacheTtl: "0" })).not.toEqual(deployment(without, { AuthorizerCacheTtl: "300" }));
    // With it, the id hashes the time in whole seconds: two updates a second apart differ.
    const first = deployment(text, { AuthRealm: "one" });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
    expect(deployment(text, { AuthRealm: "one" })).not.toEqual(first);
  });

  it("logs both stages' access logs in JSON to their own log groups", () => {
    const { Resources } = transform({});
    expect(Resources.ApiStage.Properties.AccessLogSetting).toMatchObject({ Format: { "Fn::ToJsonString": expect.any(Object) } });
    expect(JSON.stringify(Resources.ApiStage.Properties.AccessLogSetting)).toContain("${ApiAccessLogGroup}");
    expect(Resources.HttpApiStage.Properties.AccessLogSettings).toMatchObject({ Format: { "Fn::ToJsonString": expect.any(Object) } });
    expect(JSON.stringify(Resources.HttpApiStage.Properties.AccessLogSettings)).toContain("${HttpApiAccessLogGroup}");
  });
});

describeWithTool(hasCfnLint, "cfn-lint (pip install cfn-lint)", "template.yml through cfn-lint (SAM transform + CloudFormation schemas)", () => {
  it("reports no errors or warnings", () => {
    const run = spawnSync("cfn-lint", ["--", TEMPLATE_PATH], { cwd: REPO_ROOT, env: childEnv, encoding: "utf8", timeout: 60_000 });
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: "" });
  });
});
