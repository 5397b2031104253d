import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isPermitted, parseAccessRules, permittedResources } from "../src/access";
import { arnMatches, parseMethodArn } from "../src/arn";
import { ConfigError } from "../src/errors";

const rules = parseAccessRules(readFileSync(join(__dirname, "..", "access-rules.example.json"), "utf8"), "ACCESS_RULES_FILE");
const PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";
const arn = (route: string) => {
  const [method, path] = route.split(" ");
  const parsed = parseMethodArn(`${PREFIX}/${method}${path}`);
  if (!parsed) throw new Error(`bad test route ${route}`);
  return parsed;
};
const reader = { scopes: ["pets/read"], groups: [] };
const writer = { scopes: ["pets/write"], groups: [] };
const admin = { scopes: [], groups: ["admin"] };
const nobody = { scopes: ["other/read"], groups: ["users"] };

describe("parseMethodArn", () => {
  it("splits REST and HTTP API ARNs into stage prefix, method and path", () => {
    expect(parseMethodArn(`${PREFIX}/GET/pets/42`)).toEqual({
      stagePrefix: PREFIX,
      method: "GET",
      path: "pets/42",
      arn: `${PREFIX}/GET/pets/42`,
    });
    expect(parseMethodArn("arn:aws:execute-api:us-east-1:123456789012:abc123/$default/POST/")?.path).toBe("");
  });

  it.each([undefined, 42, "", "arn:aws:s3:::bucket", "arn:aws:execute-api:eu-west-1:123:abc/prod/GET/x", "x".repeat(2000)])(
    "rejects %p",
    (value) => expect(parseMethodArn(value)).toBeUndefined(),
  );
});

describe("arnMatches (API Gateway's policy matching)", () => {
  it.each([
    ["a/*/b", "a/x/y/b", true],
    ["a/GET/pets", "a/GET/pets", true],
    ["a/GET/pets", "a/GET/pets/1", false],
    ["a/GET/pet?", "a/GET/pets", true],
    ["a/GET/pet?", "a/GET/pet", false],
    ["a/$default/GET/x.y", "a/$default/GET/xzy", false],
  ])("%s vs %s → %s", (pattern, target, expected) => expect(arnMatches(pattern, target)).toBe(expected));
});

describe("parseAccessRules", () => {
  it("compiles routes to policy resources, turning {params} into wildcards", () => {
    expect(rules.rules.map((r) => r.resource)).toEqual(["GET/pets", "GET/pets/*", "POST/pets", "DELETE/pets/*", "*/admin/*"]);
  });

  it.each([
    ['{"rules": []}', "non-empty"],
    ['{"rules": [{"route": "FETCH /x", "scopes": ["a"]}]}', "METHOD /path"],
    ['{"rules": [{"route": "GET x", "scopes": ["a"]}]}', "METHOD /path"],
    ['{"rules": [{"route": "GET /x"}]}', "at least one scope or group"],
    ['{"rules": [{"route": "GET /x", "scopes": "a"}]}', "array of non-empty strings"],
    ['{"rules": [{"route": "GET /x", "groups": [""]}]}', "array of non-empty strings"],
    ['{"rules": [], "extra": 1}', 'unknown field "extra"'],
    ["[]", "JSON object"],
  ])("rejects %s", (text, message) => {
    expect(() => parseAccessRules(text, "ACCESS_RULES")).toThrow(ConfigError);
    expect(() => parseAccessRules(text, "ACCESS_RULES")).toThrow(message);
  });
});

describe("permittedResources and isPermitted", () => {
  it("allows the whole stage when there are no rules", () => {
    const allowed = permittedResources(undefined, nobody, arn("GET /anything"));
    expect(allowed).toEqual([`${PREFIX}/*/*`]);
    expect(isPermitted(allowed, arn("DELETE /a/b/c"))).toBe(true);
  });

  it.each([
    [reader, "GET /pets", true],
    [reader, "GET /pets/42", true],
    [reader, "POST /pets", false],
    [writer, "POST /pets", true],
    [writer, "GET /pets", false],
    [writer, "DELETE /pets/7", true],
    [admin, "DELETE /pets/7", true],
    [admin, "PATCH /admin/users/9", true],
    [reader, "GET /admin/users", false],
    [nobody, "GET /pets", false],
  ])("caller %p on %s → %s", (caller, route, expected) => {
    const request = arn(route);
    expect(isPermitted(permittedResources(rules, caller, request), request)).toBe(expected);
  });

  it("returns the same cache-safe list whichever route was asked first", () => {
    const first = permittedResources(rules, reader, arn("GET /pets"));
    const second = permittedResources(rules, reader, arn("GET /pets/1"));
    expect(first).toEqual([`${PREFIX}/GET/pets`, `${PREFIX}/GET/pets/*`]);
    expect(second).toEqual(first);
  });

  it("keeps the request's own region, account, API and stage", () => {
    const other = parseMethodArn("arn:aws:execute-api:us-east-2:210987654321:zzz999/dev/GET/pets");
    if (!other) throw new Error("unparsed");
    expect(permittedResources(rules, reader, other)[0]).toBe("arn:aws:execute-api:us-east-2:210987654321:zzz999/dev/GET/pets");
  });
});
