/**
 * Reading template.yml the way CloudFormation does: the YAML short-form intrinsic tags (!Ref, !Sub,
 * !GetAtt, !If…) become their long JSON form ({ "Ref": … }, { "Fn::Sub": … }), and a small
 * resolver evaluates them for given parameter values, so tests can look at what a stack would get.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type CollectionTag, parseDocument, type ScalarTag } from "yaml";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const TEMPLATE_PATH = join(REPO_ROOT, "template.yml");

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: Json;
  UpdateReplacePolicy?: Json;
  Properties?: JsonObject;
  Metadata?: JsonObject;
  DependsOn?: Json;
}

export interface Parameter {
  Type: string;
  Default?: string | number;
  AllowedValues?: (string | number)[];
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  Description?: string;
}

export interface Template {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Parameters: Record<string, Parameter>;
  Mappings?: Record<string, Record<string, Record<string, Json>>>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json; Description?: string }>;
  Rules?: Record<string, { RuleCondition?: Json; Assertions: { Assert: Json; AssertDescription?: string }[] }>;
}

/** Short tag → long form. Condition is the one without the Fn:: prefix, as in CloudFormation. */
const INTRINSICS: Record<string, string> = { Ref: "Ref", Condition: "Condition" };
for (const name of [
  "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Select", "Split", "FindInMap",
  "Base64", "GetAZs", "ImportValue", "Cidr", "Length", "ToJsonString",
]) {
  INTRINSICS[name] = `Fn::${name}`;
}

const CFN_TAGS = Object.entries(INTRINSICS).flatMap(([short, long]): (ScalarTag | CollectionTag)[] => [
  {
    tag: `!${short}`,
    // !GetAtt Resource.Attribute is the one scalar form that CloudFormation splits.
    resolve: (value: string) => ({ [long]: long === "Fn::GetAtt" ? value.split(".", 2) : value }),
  },
  { tag: `!${short}`, collection: "seq", resolve: (node) => ({ [long]: node.toJSON() }) },
  { tag: `!${short}`, collection: "map", resolve: (node) => ({ [long]: node.toJSON() }) },
]);

/** Parses CloudFormation YAML; an unknown tag or any other YAML problem is an error, not a warning. */
export function parseTemplate(text: string): Template {
  const doc = parseDocument(text, { customTags: CFN_TAGS, prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join("\n"));
  return doc.toJSON() as Template;
}

export function loadTemplate(path = TEMPLATE_PATH): Template {
  return parseTemplate(readFileSync(path, "utf8"));
}

export const clone = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------------------------------------
// Resolution

export interface Deployment {
  parameters: Record<string, string>;
  stackName: string;
  region: string;
  accountId: string;
}

export const SAMPLE_DEPLOYMENT: Omit<Deployment, "parameters"> = {
  stackName: "pets-auth",
  region: "eu-west-1",
  accountId: "123456789012",
};

/**
 * Values for the issuer parameters, of the form each one's AllowedPattern asks for (the template
 * requires UserPoolId or Issuer; these tests deploy a Cognito pool unless they say otherwise).
 */
export const SAMPLE_REQUIRED_PARAMETERS: Record<string, string> = {
  UserPoolId: "eu-west-1_AbCdEf123",
  AllowedClientIds: "1example23456789abcdefghij,2example23456789abcdefghij",
};

export interface Resolved {
  /** Parameter values in force (defaults filled in), as strings like CloudFormation's Ref gives them. */
  parameters: Record<string, string>;
  conditions: Record<string, boolean>;
  /** Resources whose Condition holds, with every intrinsic evaluated. */
  resources: Record<string, { Type: string; Properties: JsonObject; Metadata?: JsonObject; DeletionPolicy?: Json; UpdateReplacePolicy?: Json }>;
  outputs: Record<string, Json>;
  /** What `Ref <logicalId>` gives for each resource (function name, log group name, topic ARN…). */
  refs: Record<string, string>;
  /** AssertDescriptions of the template Rules that these parameter values break. */
  ruleViolations: string[];
}

const NO_VALUE = Symbol("AWS::NoValue");
type Value = Json | typeof NO_VALUE;

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** The one key of an intrinsic function object, or undefined for a plain mapping. */
function intrinsicName(node: JsonObject): string | undefined {
  const keys = Object.keys(node);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  return key === "Ref" || key === "Condition" || key.startsWith("Fn::") ? key : undefined;
}

/** Resolves the template for one deployment, as CloudFormation (after the SAM transform) would. */
export function resolveTemplate(template: Template, deployment: Partial<Deployment> = {}): Resolved {
  const { stackName, region, accountId } = { ...SAMPLE_DEPLOYMENT, ...deployment };
  const given = { ...SAMPLE_REQUIRED_PARAMETERS, ...deployment.parameters };
  const parameters: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    const value = given[name] ?? (p.Default === undefined ? undefined : String(p.Default));
    if (value === undefined) throw new Error(`parameter ${name} has no default and no value was given`);
    parameters[name] = value;
  }
  for (const name of Object.keys(given)) {
    if (!(name in parameters)) throw new Error(`value given for unknown parameter ${name}`);
  }

  const pseudo: Record<string, string> = {
    "AWS::StackName": stackName,
    "AWS::Region": region,
    "AWS::AccountId": accountId,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
  };

  const conditions: Record<string, boolean> = {};
  const resources: Resolved["resources"] = {};
  const refs: Record<string, string> = {};

  const evaluate = (node: Json, where: string): Value => {
    if (Array.isArray(node)) {
      return node.map((item, i) => evaluate(item, `${where}[${i}]`)).filter((v): v is Json => v !== NO_VALUE);
    }
    if (!isObject(node)) return node;
    const fn = intrinsicName(node);
    if (fn === undefined) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(node)) {
        const value = evaluate(v, `${where}.${k}`);
        if (value !== NO_VALUE) out[k] = value;
      }
      return out;
    }
    const arg = node[fn];
    const str = (v: Value, what: string): string => {
      if (typeof v === "string") return v;
      if (typeof v === "number" || typeof v === "boolean") return String(v);
      throw new Error(`${where}: ${what} must resolve to a string, got ${JSON.stringify(v)}`);
    };
    switch (fn) {
      case "Ref": {
        const name = str(arg, "Ref");
        if (name === "AWS::NoValue") return NO_VALUE;
        if (name in pseudo) return pseudo[name];
        // SAM's `!Ref Function.Alias`: the ARN of the AutoPublishAlias.
        if (name.endsWith(".Alias")) {
          const fn = name.slice(0, -".Alias".length);
          const alias = template.Resources[fn]?.Properties?.AutoPublishAlias;
          if (typeof alias !== "string") throw new Error(`${where}: ${name} names no function with an AutoPublishAlias`);
          return `${getAtt(fn, "Arn", where)}:${alias}`;
        }
        if (name in parameters) return parameters[name];
        if (name in refs) return refs[name];
        throw new Error(`${where}: Ref to unknown or not yet resolved name ${name}`);
      }
      case "Fn::GetAtt": {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map((a) => str(a, "GetAtt part")) : str(arg, "GetAtt").split(".", 2);
        return getAtt(logicalId, attribute, where);
      }
      case "Fn::Sub": {
        const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, {}];
        const local: Record<string, string> = {};
        for (const [k, v] of Object.entries(isObject(vars) ? vars : {})) local[k] = str(evaluate(v, `${where}.${k}`), k);
        return str(text, "Sub text").replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
          if (inner.startsWith("!")) return `\${${inner.slice(1)}}`;
          if (inner in local) return local[inner];
          if (inner.includes(".")) {
            const [logicalId, attribute] = inner.split(".", 2);
            return str(getAtt(logicalId, attribute, where), whole);
          }
          return str(evaluate({ Ref: inner }, where), whole);
        });
      }
      case "Fn::If": {
        if (!Array.isArray(arg) || arg.length !== 3) throw new Error(`${where}: Fn::If takes [condition, then, else]`);
        return evaluate(condition(str(arg[0], "If condition"), where) ? arg[1] : arg[2], where);
      }
      case "Fn::Equals": {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`${where}: Fn::Equals takes two values`);
        return JSON.stringify(evaluate(arg[0], where)) === JSON.stringify(evaluate(arg[1], where));
      }
      case "Fn::Not": {
        if (!Array.isArray(arg) || arg.length !== 1) throw new Error(`${where}: Fn::Not takes one condition`);
        return !truth(evaluate(arg[0], where), where);
      }
      case "Fn::And":
      case "Fn::Or": {
        if (!Array.isArray(arg)) throw new Error(`${where}: ${fn} takes a list`);
        const values = arg.map((a) => truth(evaluate(a, where), where));
        return fn === "Fn::And" ? values.every(Boolean) : values.some(Boolean);
      }
      case "Condition":
        return condition(str(arg, "Condition"), where);
      case "Fn::Join": {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`${where}: Fn::Join takes [separator, list]`);
        const list = evaluate(arg[1], where);
        if (!Array.isArray(list)) throw new Error(`${where}: Fn::Join needs a list`);
        return list.map((v) => str(v, "Join item")).join(str(arg[0], "Join separator"));
      }
      case "Fn::Select": {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`${where}: Fn::Select takes [index, list]`);
        const list = evaluate(arg[1], where);
        const index = Number(evaluate(arg[0], where));
        if (!Array.isArray(list) || !(index >= 0 && index < list.length)) throw new Error(`${where}: Fn::Select out of range`);
        return list[index];
      }
      case "Fn::FindInMap": {
        if (!Array.isArray(arg) || arg.length !== 3) throw new Error(`${where}: Fn::FindInMap takes [map, top key, second key]`);
        const [map, top, second] = arg.map((a, i) => str(evaluate(a, `${where}[${i}]`), "FindInMap key"));
        const found = template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) throw new Error(`${where}: Fn::FindInMap finds nothing at ${map}.${top}.${second}`);
        return found;
      }
      case "Fn::ToJsonString": {
        // AWS::LanguageExtensions: the value as compact JSON.
        const value = evaluate(arg, where);
        if (value === NO_VALUE) throw new Error(`${where}: Fn::ToJsonString of nothing`);
        return JSON.stringify(value);
      }
      case "Fn::Split": {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`${where}: Fn::Split takes [separator, text]`);
        return str(evaluate(arg[1], where), "Split text").split(str(arg[0], "Split separator"));
      }
      default:
        throw new Error(`${where}: ${fn} is not supported by this resolver`);
    }
  };

  const truth = (v: Value, where: string): boolean => {
    if (typeof v !== "boolean") throw new Error(`${where}: a condition must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };

  const condition = (name: string, where: string): boolean => {
    if (name in conditions) return conditions[name];
    const body = template.Conditions?.[name];
    if (body === undefined) throw new Error(`${where}: unknown condition ${name}`);
    conditions[name] = truth(evaluate(body, `Conditions.${name}`), `Conditions.${name}`);
    return conditions[name];
  };

  const getAtt = (logicalId: string, attribute: string, where: string): string => {
    const resource = template.Resources[logicalId];
    if (!resource) throw new Error(`${where}: GetAtt of unknown resource ${logicalId}`);
    const ref = refs[logicalId];
    if (ref === undefined) throw new Error(`${where}: GetAtt of ${logicalId} before it is resolved`);
    if (attribute !== "Arn") throw new Error(`${where}: GetAtt ${logicalId}.${attribute} is not modelled here`);
    switch (resource.Type) {
      case "AWS::Serverless::Function":
        return `arn:aws:lambda:${region}:${accountId}:function:${ref}`;
      case "AWS::CloudWatch::Alarm":
        return `arn:aws:cloudwatch:${region}:${accountId}:alarm:${ref}`;
      case "AWS::Logs::LogGroup":
        return `arn:aws:logs:${region}:${accountId}:log-group:${ref}:*`;
      case "AWS::SNS::Topic":
        return ref;
      case "AWS::IAM::Role":
        return `arn:aws:iam::${accountId}:role/${ref}`;
      default:
        throw new Error(`${where}: GetAtt ${logicalId}.Arn is not modelled for ${resource.Type}`);
    }
  };

  for (const name of Object.keys(template.Conditions ?? {})) condition(name, `Conditions.${name}`);

  const ruleViolations: string[] = [];
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && !truth(evaluate(rule.RuleCondition, `Rules.${name}`), `Rules.${name}`)) continue;
    for (const a of rule.Assertions) {
      if (!truth(evaluate(a.Assert, `Rules.${name}`), `Rules.${name}`)) ruleViolations.push(a.AssertDescription ?? name);
    }
  }

  // Resolve resources in dependency order: a resource is ready once everything it names is. A SAM
  // function's DeploymentPreference names alarms that name the function; SAM turns it into a separate
  // CodeDeploy deployment group, so it is resolved last, as that resource would be.
  const deferred = (resource: Resource): Json | undefined =>
    resource.Type === "AWS::Serverless::Function" ? resource.Properties?.DeploymentPreference : undefined;
  const withoutDeferred = (resource: Resource): Resource => {
    if (deferred(resource) === undefined) return resource;
    const properties = { ...resource.Properties };
    delete properties.DeploymentPreference;
    return { ...resource, Properties: properties };
  };
  const pending = new Map(Object.entries(template.Resources));
  const later: [string, Json][] = [];
  while (pending.size > 0) {
    let progressed = false;
    for (const [logicalId, resource] of pending) {
      const deps = referencedNames(withoutDeferred(resource)).filter((n) => pending.has(n) && n !== logicalId);
      if (deps.length > 0) continue;
      pending.delete(logicalId);
      progressed = true;
      if (resource.Condition !== undefined && !condition(resource.Condition, `Resources.${logicalId}.Condition`)) continue;
      const where = `Resources.${logicalId}`;
      const properties = evaluate(withoutDeferred(resource).Properties ?? {}, `${where}.Properties`) as JsonObject;
      const policy = (name: "DeletionPolicy" | "UpdateReplacePolicy") =>
        resource[name] === undefined ? {} : { [name]: evaluate(resource[name]!, `${where}.${name}`) as Json };
      resources[logicalId] = {
        Type: resource.Type,
        Properties: properties,
        ...(resource.Metadata ? { Metadata: resource.Metadata } : {}),
        ...policy("DeletionPolicy"),
        ...policy("UpdateReplacePolicy"),
      };
      refs[logicalId] = physicalRef(logicalId, resource.Type, properties, { stackName, region, accountId });
      const preference = deferred(resource);
      if (preference !== undefined) later.push([logicalId, preference]);
    }
    if (!progressed) throw new Error(`circular references among ${[...pending.keys()].join(", ")}`);
  }
  for (const [logicalId, preference] of later) {
    resources[logicalId].Properties.DeploymentPreference = evaluate(preference, `Resources.${logicalId}.Properties.DeploymentPreference`) as Json;
  }

  const outputs: Record<string, Json> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    outputs[name] = evaluate(output.Value, `Outputs.${name}`) as Json;
  }
  return { parameters, conditions, resources, outputs, refs, ruleViolations };
}

/** What Ref gives for a deployed resource: its name where CloudFormation returns a name. */
function physicalRef(
  logicalId: string,
  type: string,
  properties: JsonObject,
  { stackName, region, accountId }: Omit<Deployment, "parameters">,
): string {
  const suffix = "1A2B3C4D5E6F"; // CloudFormation's generated-name suffix
  switch (type) {
    case "AWS::Serverless::Function":
      return String(properties.FunctionName ?? `${stackName}-${logicalId}-${suffix}`);
    case "AWS::Serverless::Api":
      return "a1b2c3d4e5";
    case "AWS::Serverless::HttpApi":
      return "h6t7t8p9a0";
    case "AWS::Logs::LogGroup":
      return String(properties.LogGroupName ?? `${stackName}-${logicalId}-${suffix}`);
    case "AWS::CloudWatch::Alarm":
      return String(properties.AlarmName ?? `${stackName}-${logicalId}-${suffix}`);
    case "AWS::CloudWatch::Dashboard":
      return String(properties.DashboardName ?? `${logicalId}-${suffix}`);
    case "AWS::SNS::Topic":
      return `arn:aws:sns:${region}:${accountId}:${String(properties.TopicName ?? `${stackName}-${logicalId}-${suffix}`)}`;
    default:
      return `${stackName}-${logicalId}-${suffix}`;
  }
}

/** Every logical name a node refers to through Ref, GetAtt or a ${Name} / ${Name.Attr} in Sub. */
export function referencedNames(node: unknown): string[] {
  const names = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!isObject(n)) return;
    for (const [key, value] of Object.entries(n)) {
      if (key === "Ref" && typeof value === "string") names.add(value.endsWith(".Alias") ? value.slice(0, -".Alias".length) : value);
      else if (key === "Fn::GetAtt") {
        const first = Array.isArray(value) ? value[0] : typeof value === "string" ? value.split(".")[0] : undefined;
        if (typeof first === "string") names.add(first);
      } else if (key === "Fn::Sub") {
        const [text, vars] = Array.isArray(value) ? [value[0], value[1]] : [value, {}];
        const local = isObject(vars) ? Object.keys(vars) : [];
        if (typeof text === "string") {
          for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
            const name = m[1].split(".")[0];
            if (!local.includes(name)) names.add(name);
          }
        }
        if (Array.isArray(value)) walk(value[1]);
        continue;
      }
      walk(value);
    }
  };
  walk(node);
  return [...names];
}

/** Every name a template refers to that is neither a parameter, a resource nor a pseudo parameter. */
export function danglingReferences(template: Template): string[] {
  const known = new Set([
    ...Object.keys(template.Parameters ?? {}),
    ...Object.keys(template.Resources),
    "AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackId",
    "AWS::NoValue", "AWS::NotificationARNs",
  ]);
  const used = referencedNames({ r: template.Resources, o: template.Outputs ?? {}, c: template.Conditions ?? {}, u: template.Rules ?? {} });
  const dangling = used.filter((n) => !known.has(n));
  const conditionNames = new Set(Object.keys(template.Conditions ?? {}));
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Condition !== undefined && !conditionNames.has(r.Condition)) dangling.push(`${id}.Condition ${r.Condition}`);
  }
  return dangling;
}
