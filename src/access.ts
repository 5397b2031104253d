import { arnMatches, type MethodArn } from "./arn";
import { ConfigError } from "./errors";

/**
 * Access rules: which scopes or Cognito groups may call which routes.
 *
 *   { "rules": [
 *       { "route": "GET /pets",        "scopes": ["pets/read"] },
 *       { "route": "GET /pets/{petId}", "scopes": ["pets/read"] },
 *       { "route": "POST /pets",       "scopes": ["pets/write"] },
 *       { "route": "* /admin/*",       "groups": ["admin"] } ] }
 *
 * A caller may use a rule's route when it holds any of its scopes or any of its groups. In a path,
 * `{param}` and `*` match any run of characters, `/` included — exactly how API Gateway matches the
 * policy resource generated from the rule, so the decision and the cached policy cannot disagree.
 * The method is an HTTP verb, `ANY` or `*`.
 */
export interface AccessRule {
  readonly route: string;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  /** `{VERB}/{path}` with wildcards: appended to the stage prefix to form a policy resource. */
  readonly resource: string;
}

export interface AccessRules {
  readonly rules: readonly AccessRule[];
}

export interface Caller {
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "*"]);
const RULE_KEYS = new Set(["route", "scopes", "groups"]);
const PATH = /^\/[A-Za-z0-9._~!$&'()+,;=:@%{}*/-]*$/;

function stringArray(value: unknown, where: string, variable: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
    throw new ConfigError(variable, `${where} must be an array of non-empty strings`);
  }
  return value as string[];
}

function compileRule(raw: unknown, index: number, variable: string): AccessRule {
  const where = `rules[${index}]`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(variable, `${where} must be an object with "route" and "scopes" and/or "groups"`);
  }
  const rule = raw as Record<string, unknown>;
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) {
      throw new ConfigError(variable, `${where} has unknown field "${key}"; allowed: route, scopes, groups`);
    }
  }
  if (typeof rule.route !== "string") {
    throw new ConfigError(variable, `${where}.route must be a string like "GET /pets/{petId}"`);
  }
  const parts = rule.route.trim().split(/\s+/);
  const method = parts[0]?.toUpperCase();
  const path = parts[1];
  if (parts.length !== 2 || !METHODS.has(method) || !PATH.test(path)) {
    throw new ConfigError(
      variable,
      `${where}.route must be "METHOD /path" (METHOD one of ${[...METHODS].join(", ")}), got "${rule.route}"`,
    );
  }
  const scopes = stringArray(rule.scopes, `${where}.scopes`, variable);
  const groups = stringArray(rule.groups, `${where}.groups`, variable);
  if (scopes.length === 0 && groups.length === 0) {
    throw new ConfigError(variable, `${where} must name at least one scope or group`);
  }
  const verb = method === "ANY" ? "*" : method;
  const resourcePath = path.slice(1).replace(/\{[^}/]*\}/g, "*");
  return Object.freeze({ route: `${method} ${path}`, scopes, groups, resource: `${verb}/${resourcePath}` });
}

/** Parses and validates the rules JSON at init; errors name the variable it came from. */
export function parseAccessRules(text: string, variable: string): AccessRules {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(variable, `is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(variable, 'must be a JSON object like {"rules": [{"route": "GET /pets", "scopes": ["pets/read"]}]}');
  }
  const extra = Object.keys(doc).filter((k) => k !== "rules" && k !== "$schema");
  if (extra.length > 0) throw new ConfigError(variable, `has unknown field "${extra[0]}"; allowed: rules`);
  const rules = (doc as { rules?: unknown }).rules;
  if (!Array.isArray(rules) || rules.length === 0) {
    throw new ConfigError(variable, 'must have a non-empty "rules" array');
  }
  return Object.freeze({ rules: Object.freeze(rules.map((r, i) => compileRule(r, i, variable))) });
}

const overlaps = (held: readonly string[], wanted: readonly string[]): boolean =>
  wanted.some((w) => held.includes(w));

/**
 * The policy resources this caller may invoke, for the whole stage of `arn` — never only the
 * requested method, because API Gateway caches the policy per token and reuses it for every route.
 */
export function permittedResources(rules: AccessRules | undefined, caller: Caller, arn: MethodArn): string[] {
  if (!rules) return [`${arn.stagePrefix}/*/*`];
  const resources: string[] = [];
  for (const rule of rules.rules) {
    if (overlaps(caller.scopes, rule.scopes) || overlaps(caller.groups, rule.groups)) {
      const resource = `${arn.stagePrefix}/${rule.resource}`;
      if (!resources.includes(resource)) resources.push(resource);
    }
  }
  return resources;
}

/** Whether the requested method ARN is covered by the permitted resources (API Gateway's matching). */
export function isPermitted(resources: readonly string[], arn: MethodArn): boolean {
  return resources.some((resource) => arnMatches(resource, arn.arn));
}
