import type { MethodArn } from "./arn";
import { ConfigError } from "./errors";

/**
 * Access rules: which scopes or Cognito groups may call which routes.
 *
 *   { "rules": [
 *       { "route": "GET /pets",         "scopes": ["pets/read"] },
 *       { "route": "GET /pets/{petId}", "scopes": ["pets/read"] },
 *       { "route": "POST /pets",        "scopes": ["pets/write"] },
 *       { "route": "ANY /admin/*",      "groups": ["admin"] } ] }
 *
 * A route template matches a request the way API Gateway routes it:
 * - `{param}` (and a `*` that is not last) matches exactly one non-empty path segment;
 * - a last `*` or `{name+}` matches one or more segments (the rest of the path, non-empty);
 * - every other segment matches itself, and the whole path must match;
 * - `ANY` and `*` as the method mean every HTTP verb, and never anything in the path.
 * A caller may call a route when any rule matching it names one of its scopes or groups.
 */
export interface AccessRule {
  readonly route: string;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  /** The verbs the rule covers (ANY expanded). */
  readonly verbs: readonly Verb[];
  readonly segments: readonly Segment[];
  /** The last segment swallows one or more segments. */
  readonly greedy: boolean;
  /**
   * IAM resource suffixes (`{VERB}/{path}`, appended to the stage prefix) that match exactly the
   * requests this rule matches, or undefined when IAM patterns cannot say that (a `{param}`:
   * IAM's `*` also matches `/`).
   */
  readonly exactResources?: readonly string[];
}

export interface AccessRules {
  readonly rules: readonly AccessRule[];
}

export interface Caller {
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
}

/** The methods API Gateway puts in a method ARN (REST and HTTP APIs). */
export const VERBS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export type Verb = (typeof VERBS)[number];

/** A literal segment, or a parameter (`{name}` or a middle `*`) matching one non-empty segment. */
type Segment = { readonly literal: string } | { readonly param: true };

const RULE_KEYS = new Set(["route", "scopes", "groups"]);
const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=:@%-]+$/;
const PARAM = /^\{[A-Za-z0-9._-]+\}$/;
const GREEDY_PARAM = /^\{[A-Za-z0-9._-]+\+\}$/;
/** Characters that an IAM resource pattern would read as something other than themselves. */
const IAM_SPECIAL = /[*?]|\$\{/;

function stringArray(value: unknown, where: string, variable: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
    throw new ConfigError(variable, `${where} must be an array of non-empty strings`);
  }
  return value as string[];
}

interface ParsedPath {
  readonly segments: Segment[];
  readonly greedy: boolean;
}

/** Parses `/a/{b}/c/*`; returns a reason when the path is not a route template we accept. */
function parsePath(path: string): ParsedPath | string {
  if (!path.startsWith("/")) return "the path must start with /";
  if (path === "/") return { segments: [], greedy: false };
  const parts = path.slice(1).split("/");
  const segments: Segment[] = [];
  let greedy = false;
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    if (part === "") return last ? "the path must not end with /" : "the path must not contain an empty segment (//)";
    if (part === "*" || GREEDY_PARAM.test(part)) {
      if (last) greedy = true;
      else if (part !== "*") return `a greedy ${part} must be the last segment`;
      else segments.push({ param: true });
    } else if (PARAM.test(part)) {
      segments.push({ param: true });
    } else if (LITERAL.test(part)) {
      segments.push({ literal: part });
    } else {
      return `segment "${part}" must be a literal, {name}, {name+} or * (wildcards and braces stand alone)`;
    }
  }
  return { segments, greedy };
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
  const methods = `${VERBS.join(", ")}, ANY or *`;
  if (parts.length !== 2 || !(method === "ANY" || method === "*" || (VERBS as readonly string[]).includes(method))) {
    throw new ConfigError(variable, `${where}.route must be "METHOD /path" (METHOD one of ${methods}), got "${rule.route}"`);
  }
  const path = parsePath(parts[1]);
  if (typeof path === "string") throw new ConfigError(variable, `${where}.route "${rule.route}": ${path}`);
  const scopes = stringArray(rule.scopes, `${where}.scopes`, variable);
  const groups = stringArray(rule.groups, `${where}.groups`, variable);
  if (scopes.length === 0 && groups.length === 0) {
    throw new ConfigError(variable, `${where} must name at least one scope or group`);
  }
  const verbs: readonly Verb[] = method === "ANY" || method === "*" ? VERBS : [method as Verb];
  return Object.freeze({
    route: `${method} ${parts[1]}`,
    scopes,
    groups,
    verbs,
    ...path,
    exactResources: exactResources(verbs, path),
  });
}

/**
 * The IAM resources equal to a rule, where they exist. Literal paths are themselves; a greedy
 * tail after literal segments is `?*` (one character or more, `/` included — the rest of the path,
 * non-empty). A `{param}` has no IAM equivalent.
 */
function exactResources(verbs: readonly Verb[], path: ParsedPath): string[] | undefined {
  const literals: string[] = [];
  for (const segment of path.segments) {
    if (!("literal" in segment)) return undefined;
    literals.push(segment.literal);
  }
  const joined = literals.join("/");
  const suffix = path.greedy ? (joined === "" ? "?*" : `${joined}/?*`) : joined;
  return verbs.map((verb) => `${verb}/${suffix}`);
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

/** Whether a rule's route template matches a request (method and whole path). */
export function routeMatches(rule: AccessRule, method: string, path: string): boolean {
  if (!(rule.verbs as readonly string[]).includes(method)) return false;
  const parts = path === "" ? [] : path.split("/");
  const fixed = rule.segments.length;
  if (rule.greedy ? parts.length <= fixed : parts.length !== fixed) return false;
  for (let i = 0; i < fixed; i++) {
    const segment = rule.segments[i];
    if ("literal" in segment ? parts[i] !== segment.literal : parts[i] === "") return false;
  }
  // A greedy tail is the rest of the path after the fixed segments' slash: one character or more.
  return !rule.greedy || parts.length > fixed + 1 || parts[fixed] !== "";
}

const holds = (caller: Caller, rule: AccessRule): boolean =>
  rule.scopes.some((s) => caller.scopes.includes(s)) || rule.groups.some((g) => caller.groups.includes(g));

/** API Gateway limits each policy Resource to 512 characters. */
export const MAX_POLICY_RESOURCE_LENGTH = 512;

/** The decision for one request and the policy resources that say it to API Gateway's cache. */
export interface Access {
  /** The rules let this caller call the requested route. */
  readonly permitted: boolean;
  /**
   * Policy resources that allow nothing the rules deny this caller, on any route: every exactly
   * expressible rule the caller holds, plus the requested method ARN itself when it is permitted
   * and no such rule covers it. Without rules: the whole stage.
   */
  readonly allow: readonly string[];
  /** Whether `allow` covers the requested method ARN (false for a permitted request whose ARN cannot be a policy resource). */
  readonly allowsRequest: boolean;
}

/**
 * Decides a request and builds the resources of a policy that API Gateway may cache for this
 * token: it must never allow a request the rules deny (IAM's `*` crosses `/`, so `{param}` rules
 * are granted route by route), and it should allow as much as it can say exactly.
 */
export function decideAccess(rules: AccessRules | undefined, caller: Caller, arn: MethodArn): Access {
  if (!rules) return { permitted: true, allow: [`${arn.stagePrefix}/*/*`], allowsRequest: true };
  const allow = new Set<string>();
  let permitted = false;
  let covered = false;
  for (const rule of rules.rules) {
    if (!holds(caller, rule)) continue;
    permitted ||= routeMatches(rule, arn.method, arn.path);
    for (const suffix of rule.exactResources ?? []) {
      const resource = `${arn.stagePrefix}/${suffix}`;
      if (resource.length > MAX_POLICY_RESOURCE_LENGTH) continue;
      allow.add(resource);
      covered ||= exactResourceCovers(resource, arn.arn);
    }
  }
  if (permitted && !covered && isLiteralResource(arn.arn)) {
    allow.add(arn.arn);
    covered = true;
  }
  return { permitted, allow: [...allow], allowsRequest: permitted && covered };
}

/**
 * Whether one of our own exact resources (a literal, or a literal prefix + `?*`) matches the ARN as
 * IAM would. Said from the ARN itself, not from the parsed path, so that the decision is exactly
 * what the policy says (`…/GET` and `…/GET/` parse alike, but only one equals `…/GET/`).
 */
function exactResourceCovers(resource: string, arn: string): boolean {
  if (!resource.endsWith("?*")) return resource === arn;
  const prefix = resource.slice(0, -2);
  return arn.length > prefix.length && arn.startsWith(prefix);
}

/** A method ARN that, used as a policy resource, matches only itself. */
export function isLiteralResource(arn: string): boolean {
  return arn.length <= MAX_POLICY_RESOURCE_LENGTH && !IAM_SPECIAL.test(arn);
}
