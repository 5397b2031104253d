/**
 * Where the AWS SAM translator (Python package aws-sam-translator) and cfn-lint are installed,
 * runs them offline over template.yml: the translator is what CloudFormation's AWS::Serverless
 * transform runs, so this shows what API Gateway really gets. Each check is skipped, with a message
 * saying why, where its tool is missing.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { type JsonObject, REPO_ROOT, SAMPLE_REQUIRED_PARAMETERS, TEMPLATE_PATH } from "./cfn";

const SCRIPT = join(__dirname, "sam_transform.py");
const childEnv = { ...process.env, AWS_DEFAULT_REGION: "eu-west-1" };

const hasTranslator = spawnSync("python3", ["-c", "import samtranslator"], { env: childEnv }).status === 0;
const hasCfnLint = spawnSync("cfn-lint", ["--version"], { env: childEnv }).status === 0;
if (!hasTranslator) console.warn("SKIPPED the SAM translator checks: python3 cannot import samtranslator (pip install aws-sam-translator)");
if (!hasCfnLint) console.warn("SKIPPED the cfn-lint check: cfn-lint is not on PATH (pip install cfn-lint)");

interface Transformed {
  Resources: Record<string, { Type: string; Properties: JsonObject }>;
}

const transformed = new Map<string, Transformed>();
function transform(parameters: Record<string, string>): Transformed {
  const key = JSON.stringify(parameters);
  if (!transformed.has(key)) transformed.set(key, runTranslator(parameters));
  return transformed.get(key)!;
}

function runTranslator(parameters: Record<string, string>): Transformed {
  const run = spawnSync("python3", [SCRIPT, TEMPLATE_PATH, JSON.stringify({ ...SAMPLE_REQUIRED_PARAMETERS, ...parameters })], {
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

(hasTranslator ? describe : describe.skip)("template.yml through the AWS SAM translator", () => {
  it("gives the REST API a REQUEST authorizer keyed on the Authorization header, method and path, cached for the TTL parameter", () => {
    for (const ttl of ["0", "300", "3600"]) {
      const rest = authorizerOf(transform({ AuthorizerCacheTtl: ttl }).Resources, "Api");
      expect(rest).toMatchObject({ type: "request", identitySource: "method.request.header.Authorization, context.httpMethod, context.path" });
      expect(String(rest.authorizerResultTtlInSeconds)).toBe(ttl);
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

  it("lets both APIs invoke the authorizer function, and nothing else", () => {
    const { Resources } = transform({});
    const permissions = Object.values(Resources).filter(
      (r) => r.Type === "AWS::Lambda::Permission" && JSON.stringify(r.Properties.FunctionName).includes("AuthorizerFunction"),
    );
    const sources = permissions.map((p) => JSON.stringify(p.Properties.SourceArn));
    expect(permissions).toHaveLength(2);
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
});

(hasCfnLint ? describe : describe.skip)("template.yml through cfn-lint (SAM transform + CloudFormation schemas)", () => {
  it("reports no errors or warnings", () => {
    const run = spawnSync("cfn-lint", ["--", TEMPLATE_PATH], { cwd: REPO_ROOT, env: childEnv, encoding: "utf8", timeout: 60_000 });
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: "" });
  });
});
