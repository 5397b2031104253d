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

const SAM_SCHEMA_PATH = process.env.SAM_SCHEMA_PATH ?? resolve(REPO_ROOT, "..", "shared", "schemas", "sam.schema.json");

describe("template.yml parses as CloudFormation YAML", () => {
  it("turns the short-form tags into CloudFormation's long form", () => {
    const template = loadTemplate();
    expect(template.Transform).toBe("AWS::Serverless-2016-10-31");
    const fn = template.Resources.AuthorizerFunction;
    expect(fn.Properties?.Tracing).toBe("Active");
    const env = (fn.Properties?.Environment as JsonObject).Variables as JsonObject;
    expect(env.USER_POOL_ID).toEqual({ Ref: "UserPoolId" });
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
    expect(plain.conditions).toEqual({ HasAlarmEmail: false, HasAccessRules: false, HasAccessRulesFile: false });
    expect(plain.resources.AlarmEmailSubscription).toBeUndefined();
    expect(plain.ruleViolations).toEqual([]);

    const full = resolveTemplate(template, { parameters: { AlarmEmail: "ops@example.com", AccessRules: '{"rules":[]}' } });
    expect(full.conditions).toEqual({ HasAlarmEmail: true, HasAccessRules: true, HasAccessRulesFile: false });
    expect(full.resources.AlarmEmailSubscription.Properties).toMatchObject({ Protocol: "email", Endpoint: "ops@example.com" });
    expect(full.ruleViolations).toEqual([]);
  });

  it("refuses, before deploying, inline access rules and a rules file together", () => {
    const both = resolveTemplate(loadTemplate(), { parameters: { AccessRules: '{"rules":[]}', AccessRulesFile: "access-rules.json" } });
    expect(both.ruleViolations).toEqual([expect.stringMatching(/AccessRules or AccessRulesFile, not both/)]);
    const file = resolveTemplate(loadTemplate(), { parameters: { AccessRulesFile: "access-rules.json" } });
    expect(file.ruleViolations).toEqual([]);
  });
});

const samSchema = existsSync(SAM_SCHEMA_PATH) ? (JSON.parse(readFileSync(SAM_SCHEMA_PATH, "utf8")) as object) : undefined;
const describeSam = samSchema ? describe : describe.skip;
if (!samSchema) {
  // Shown in the jest output, so a skipped check never passes silently.
  console.warn(`SKIPPED the SAM schema check: no schema at ${SAM_SCHEMA_PATH} (set SAM_SCHEMA_PATH to the AWS SAM sam.schema.json)`);
}

describeSam(`template.yml against the AWS SAM schema (${SAM_SCHEMA_PATH})`, () => {
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
  const resolved = () =>
    resolveTemplate(loadTemplate(), { parameters: { AlarmEmail: "ops@example.com", AccessRules: '{"rules":[]}' } });

  it("has no unknown or missing properties, wrong types or disallowed values", () => {
    const plain = Object.entries(resolved().resources).filter(([, r]) => !r.Type.startsWith("AWS::Serverless::"));
    expect(plain.map(([, r]) => r.Type).sort()).toEqual([
      "AWS::CloudWatch::Alarm",
      "AWS::CloudWatch::Alarm",
      "AWS::CloudWatch::Alarm",
      "AWS::CloudWatch::Alarm",
      "AWS::CloudWatch::Dashboard",
      "AWS::Logs::LogGroup",
      "AWS::Logs::LogGroup",
      "AWS::SNS::Subscription",
      "AWS::SNS::Topic",
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
