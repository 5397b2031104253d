/**
 * Checks plain CloudFormation resources (the ones the SAM schema lets through untyped) against the
 * AWS resource specification published by the AWS CDK team as @aws-cdk/aws-service-spec, which is
 * built from the CloudFormation registry schemas. It also carries the AWS/* CloudWatch metrics
 * with their dimension sets, used to check the dashboard's and alarms' built-in metrics.
 */
import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import type { PropertyType, ResourceProperties, SpecDatabase } from "@aws-cdk/service-spec-types";
import type { Json, JsonObject } from "./cfn";

let cached: SpecDatabase | undefined;
export function specDatabase(): SpecDatabase {
  cached ??= loadAwsServiceSpecSync();
  return cached;
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

export function resourceSpec(db: SpecDatabase, cloudFormationType: string) {
  const found = db.lookup("resource", "cloudFormationType", "equals", cloudFormationType);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * Problems with one resource's resolved properties: unknown property names, missing required
 * ones, wrong types and values outside the allowed set, recursively through nested types.
 */
export function validateResource(db: SpecDatabase, type: string, properties: JsonObject): string[] {
  const spec = resourceSpec(db, type);
  if (!spec) return [`${type} is not a CloudFormation resource type`];
  return validateProperties(db, spec.properties, properties, type);
}

function validateProperties(db: SpecDatabase, spec: ResourceProperties, value: JsonObject, where: string): string[] {
  const problems: string[] = [];
  for (const [name, property] of Object.entries(spec)) {
    if (property.required && !(name in value)) problems.push(`${where}: required property ${name} is missing`);
  }
  for (const [name, v] of Object.entries(value)) {
    const property = spec[name];
    if (!property) {
      problems.push(`${where}: unknown property ${name} (known: ${Object.keys(spec).sort().join(", ")})`);
      continue;
    }
    const types = [property.type, ...(property.previousTypes ?? [])];
    const attempts = types.map((t) => validateValue(db, t, v, `${where}.${name}`));
    if (!attempts.some((a) => a.length === 0)) problems.push(...attempts[0]);
  }
  return problems;
}

function validateValue(db: SpecDatabase, type: PropertyType, value: Json, where: string): string[] {
  const wrong = (expected: string) => [`${where}: expected ${expected}, got ${JSON.stringify(value)}`];
  switch (type.type) {
    case "string":
      if (typeof value !== "string") return wrong("a string");
      if (type.allowedValues && !type.allowedValues.includes(value)) return wrong(`one of ${type.allowedValues.join(", ")}`);
      return [];
    case "integer": {
      // CloudFormation accepts numbers and numeric strings (what Ref of a Number parameter gives).
      const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) return wrong("an integer");
      if (type.allowedValues && !type.allowedValues.includes(n)) return wrong(`one of ${type.allowedValues.join(", ")}`);
      return [];
    }
    case "number": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      return typeof n === "number" && Number.isFinite(n) ? [] : wrong("a number");
    }
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false" ? [] : wrong("a boolean");
    case "json":
      return isObject(value) || Array.isArray(value) || typeof value === "string" ? [] : wrong("JSON");
    case "date-time":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? [] : wrong("a date-time");
    case "null":
      return value === null ? [] : wrong("null");
    case "tag":
      if (!isObject(value) || typeof value.Key !== "string" || typeof value.Value !== "string") return wrong("a {Key, Value} tag");
      return [];
    case "array":
      if (!Array.isArray(value)) return wrong("a list");
      return value.flatMap((item, i) => validateValue(db, type.element, item, `${where}[${i}]`));
    case "map":
      if (!isObject(value)) return wrong("a map");
      return Object.entries(value).flatMap(([k, item]) => validateValue(db, type.element, item, `${where}.${k}`));
    case "union": {
      const attempts = type.types.map((t) => validateValue(db, t, value, where));
      return attempts.some((a) => a.length === 0) ? [] : attempts.flat();
    }
    case "ref": {
      if (!isObject(value)) return wrong("an object");
      const definition = db.get("typeDefinition", type.reference);
      return validateProperties(db, definition.properties, value, where);
    }
    default:
      return [`${where}: the spec has a type this check does not know: ${JSON.stringify(type)}`];
  }
}

/** The dimension-name sets with which AWS publishes namespace/metric, per the spec; undefined if unknown. */
export function awsMetricDimensionSets(db: SpecDatabase, namespace: string, metricName: string): string[][] | undefined {
  const metrics = db.all("metric").filter((m) => m.namespace === namespace && m.name === metricName);
  if (metrics.length === 0) return undefined;
  const sets = new Map<string, string[]>();
  for (const metric of metrics) {
    for (const { entity } of db.follow("usesDimensionSet", metric)) {
      const names = entity.dimensions.map((d) => d.name).sort();
      sets.set(names.join(","), names);
    }
  }
  return [...sets.values()];
}
