/**
 * template.yml is well-formed: it parses with CloudFormation's intrinsic tags, every name it refers
 * to exists, the SAM resources validate against the published SAM schema and the plain
 * CloudFormation resources against the AWS resource specification.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import Ajv from "ajv-draft-04";
import {
  clone,
  danglingReferences,
  type JsonObject,
  loadTemplate,
  parseTemplate,
  REPO_ROOT,
  resolveTemplate,
  type Template,
} from "./cfn";
import { resourceSpec, specDatabase, validateResource } from "./cfn-spec";
import { describeWithTool } from "./tools";

/** A value for every optional parameter, so that every conditional resource and property is there. */
const EVERYTHING_ON: Record<string, string> = {
  AlarmEmail: "ops@example.com",
  AccessRules: '{"rules":[]}',
  Issuer: "https://login.example.com/tenant",
  Audience: "api://pets",
  JwksUri: "https://keys.example.com/jwks.json",
  JwtTyp: "at+jwt",
  UserPoolId: "",
  AllowedClientIds: "",
  ReservedConcurrency: "50",
  ProvisionedConcurrency: "2",
  CorsAllowOrigin: "https://app.example.com",
  CreateApiGatewayCloudWatchRole: "true",
  AlarmTopicKmsKeyId: "alias/alarm-topic",
  Api4xxRateThreshold: "10",
  BoundTokens: "accept",
  DpopPublicBaseUrl: "https://api.example.com/v1",
};

const SAM_SCHEMA_PATH = process.env.SAM_SCHEMA_PATH ?? resolve(REPO_ROOT, "..", "shared", "schemas", "sam.schema.json");

describe("template.yml parses as CloudFormation YAML", () => {
  it("turns the short-form tags into CloudFormation's long form", () => {
    const template = loadTemplate();
    // LanguageExtensions first: it resolves the parameter-driven DeletionPolicy before SAM runs.
    expect(template.Transform).toEqual(["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]);
    const fn = template.Resources.AuthorizerFunction;
    expect(fn.Properties?.Tracing).toBe("Active");
    const env = (fn.Properties?.Environment as JsonObject).Variables as JsonObject;
    expect(env.USER_POOL_ID).toEqual({ "Fn::If": ["HasUserPools", { Ref: "UserPoolId" }, { Ref: "AWS::NoValue" }] });
    expect(env.ACCESS_RULES).toEqual({ "Fn::If": ["HasAccessRules", { Ref: "AccessRules" }, { Ref: "AWS::NoValue" }] });
    expect(template.Outputs?.AuthorizerFunctionArn.Value).toEqual({ "Fn::GetAtt": ["AuthorizerFunction", "Arn"] });
  });

  it("refuses unknown tags and duplicate keys instead of passing them through", () => {
    expect(() => parseTemplate("Resources:\n  X:\n    Type: !Reff Foo\n")).toThrow(/Reff/);
    expect(() => parseTemplate("Resources:\n  X: {}\n  X: {}\n")).toThrow();
  });

  it("refers only to parameters, resources, conditions and pseudo parameters that exist", () => {
    const template = loadTemplate();
    expect(danglingReferences(template)).toEqual([]);

    const broken = clone(template);
    broken.Resources.ThrottleAlarm.Properties!.AlarmActions = [{ Ref: "NoSuchTopic" }];
    broken.Resources.AlarmEmailSubscription.Condition = "NoSuchCondition";
    expect(danglingReferences(broken)).toEqual(["NoSuchTopic", "AlarmEmailSubscription.Condition NoSuchCondition"]);
  });

  it("resolves for the default parameters and for every optional feature switched on", () => {
    const template = loadTemplate();
    const plain = resolveTemplate(template);
    const on = (c: Record<string, boolean>) => Object.keys(c).filter((k) => c[k]).sort();
    expect(on(plain.conditions)).toEqual(["HasClientIds", "HasTokenUse", "HasUserPools"]);
    expect(plain.resources.AlarmEmailSubscription).toBeUndefined();
    expect(plain.ruleViolations).toEqual([]);

    const full = resolveTemplate(template, { parameters: EVERYTHING_ON });
    // All but the other access-rules source and the Cognito pool (JWKS_URI takes exactly one issuer).
    const exclusive = ["HasAccessRulesFile", "HasUserPools", "HasClientIds"];
    expect(on(full.conditions)).toEqual(Object.keys(template.Conditions!).filter((c) => !exclusive.includes(c)).sort());
    expect(full.resources.AlarmEmailSubscription.Properties).toMatchObject({ Protocol: "email", Endpoint: "ops@example.com" });
    expect(full.ruleViolations).toEqual([]);
  });

  it("refuses, before deploying, settings the authorizer would refuse at start", () => {
    const violations = (parameters: Record<string, string>) =>
      resolveTemplate(loadTemplate(), { parameters: { UserPoolId: "", AllowedClientIds: "", ...parameters } }).ruleViolations;
    expect(violations({})).toEqual([expect.stringMatching(/Set UserPoolId .* or Issuer/)]);
    expect(violations({ UserPoolId: "eu-west-1_AbCdEf123" })).toEqual([expect.stringMatching(/UserPoolId and AllowedClientIds go together/)]);
    expect(violations({ Issuer: "https://login.example.com" })).toEqual([expect.stringMatching(/Issuer and Audience go together/)]);
    expect(violations({ Issuer: "https://login.example.com", Audience: "api" })).toEqual([]);
    expect(violations({ Issuer: "https://login.example.com", Audience: "api", AllowedClientIds: "abc" })).toEqual([
      expect.stringMatching(/UserPoolId and AllowedClientIds go together/),
    ]);
    expect(violations({ Issuer: "https://login.example.com", Audience: "api", AlarmTopicKmsKeyId: "alias/aws/sns" })).toEqual([
      expect.stringMatching(/customer managed key/),
    ]);
  });

  it("keeps or deletes every log group as LogGroupDeletionPolicy says", () => {
    for (const policy of ["Delete", "Retain"]) {
      const { resources } = resolveTemplate(loadTemplate(), { parameters: { LogGroupDeletionPolicy: policy } });
      const groups = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Logs::LogGroup");
      expect(groups.map(([id]) => id).sort()).toEqual(["ApiAccessLogGroup", "AuthorizerLogGroup", "EchoLogGroup", "HttpApiAccessLogGroup"]);
      for (const [, g] of groups) expect({ DeletionPolicy: g.DeletionPolicy, UpdateReplacePolicy: g.UpdateReplacePolicy }).toEqual({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
    }
  });

  it("refuses, before deploying, inline access rules and a rules file together", () => {
    const both = resolveTemplate(loadTemplate(), { parameters: { AccessRules: '{"rules":[]}', AccessRulesFile: "access-rules.json" } });
    expect(both.ruleViolations).toEqual([expect.stringMatching(/AccessRules or AccessRulesFile, not both/)]);
    const file = resolveTemplate(loadTemplate(), { parameters: { AccessRulesFile: "access-rules.json" } });
    expect(file.ruleViolations).toEqual([]);
  });
});

const samSchema = existsSync(SAM_SCHEMA_PATH) ? (JSON.parse(readFileSync(SAM_SCHEMA_PATH, "utf8")) as object) : undefined;

describeWithTool(samSchema !== undefined, `the AWS SAM schema at ${SAM_SCHEMA_PATH} (set SAM_SCHEMA_PATH)`, `template.yml against the AWS SAM schema (${SAM_SCHEMA_PATH})`, () => {
  let validate: (template: Template) => string[];

  beforeAll(() => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const check = ajv.compile(samSchema!);
    validate = (template) => {
      if (check(template)) return [];
      return (check.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    };
  });

  it("validates with no errors", () => {
    expect(validate(loadTemplate())).toEqual([]);
  });

  it("rejects a misspelt SAM property and an authorizer payload type SAM does not know", () => {
    const broken = clone(loadTemplate());
    broken.Resources.AuthorizerFunction.Properties!.Timout = 8;
    expect(validate(broken).join("\n")).toMatch(/AuthorizerFunction/);

    const badAuth = clone(loadTemplate());
    const auth = badAuth.Resources.Api.Properties!.Auth as JsonObject;
    ((auth.Authorizers as JsonObject).JwtAuthorizer as JsonObject).FunctionPayloadType = "HEADER";
    expect(validate(badAuth).join("\n")).toMatch(/Api/);
  });

  it("takes only a literal TTL for an HTTP API Lambda authorizer (why that variant does not follow AuthorizerCacheTtl)", () => {
    const httpTtl = clone(loadTemplate());
    const auth = httpTtl.Resources.HttpApi.Properties!.Auth as JsonObject;
    const identity = ((auth.Authorizers as JsonObject).JwtAuthorizer as JsonObject).Identity as JsonObject;
    identity.ReauthorizeEvery = { Ref: "AuthorizerCacheTtl" };
    expect(validate(httpTtl)).toContain('/Resources/HttpApi/Properties/Auth/Authorizers/JwtAuthorizer/Identity/ReauthorizeEvery must be integer {"type":"integer"}');
  });
});

describe("plain CloudFormation resources against the AWS resource specification (@aws-cdk/aws-service-spec)", () => {
  const db = specDatabase();
  // Every optional resource switched on, so that each one is checked.
  const resolved = () => resolveTemplate(loadTemplate(), { parameters: EVERYTHING_ON });

  it("has no unknown or missing properties, wrong types or disallowed values", () => {
    const plain = Object.entries(resolved().resources).filter(([, r]) => !r.Type.startsWith("AWS::Serverless::"));
    const count = (types: string[]) => Object.entries(types.reduce<Record<string, number>>((n, x) => ({ ...n, [x]: (n[x] ?? 0) + 1 }), {})).sort();
    expect(count(plain.map(([, r]) => r.Type))).toEqual([
      ["AWS::ApiGateway::Account", 1],
      ["AWS::CloudWatch::Alarm", 10],
      ["AWS::CloudWatch::Dashboard", 1],
      ["AWS::IAM::Role", 1],
      ["AWS::Logs::LogGroup", 4],
      ["AWS::Logs::QueryDefinition", 3],
      ["AWS::SNS::Subscription", 1],
      ["AWS::SNS::Topic", 1],
    ]);
    const problems = plain.flatMap(([id, r]) => validateResource(db, r.Type, r.Properties).map((p) => `${id}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("catches a misspelt property, a missing required one, a wrong type and a disallowed value", () => {
    const { resources } = resolved();
    const alarm = { ...resources.ThrottleAlarm.Properties, Treshold: 1 };
    expect(validateResource(db, "AWS::CloudWatch::Alarm", alarm)).toEqual([expect.stringMatching(/unknown property Treshold/)]);
    const subscription = { ...resources.AlarmEmailSubscription.Properties };
    delete subscription.TopicArn;
    expect(validateResource(db, "AWS::SNS::Subscription", subscription)).toEqual([
      expect.stringMatching(/required property TopicArn is missing/),
    ]);
    const dashboard = { ...resources.Dashboard.Properties, DashboardBody: { widgets: [] } };
    expect(validateResource(db, "AWS::CloudWatch::Dashboard", dashboard)).toEqual([
      expect.stringMatching(/DashboardBody: expected a string/),
    ]);
    const logGroup = { ...resources.AuthorizerLogGroup.Properties, RetentionInDays: 42 };
    expect(validateResource(db, "AWS::Logs::LogGroup", logGroup)).toEqual([expect.stringMatching(/RetentionInDays: expected one of 1, 3, 5/)]);
    const dims = { ...resources.ThrottleAlarm.Properties, Dimensions: [{ Name: "FunctionName" }] };
    expect(validateResource(db, "AWS::CloudWatch::Alarm", dims)).toEqual([expect.stringMatching(/Dimensions\[0\]: required property Value/)]);
    expect(validateResource(db, "AWS::CloudWatch::Dashbord", {})).toEqual([expect.stringMatching(/not a CloudFormation resource type/)]);
  });

  it("offers exactly the log retention values CloudWatch Logs accepts", () => {
    const spec = resourceSpec(db, "AWS::Logs::LogGroup")!;
    const type = spec.properties.RetentionInDays.type;
    const accepted = type.type === "integer" ? type.allowedValues : undefined;
    expect(accepted).toBeDefined();
    expect(loadTemplate().Parameters.LogRetentionDays.AllowedValues).toEqual(accepted);
  });
});
