/**
 * Configuration robustness at both layers:
 *  1. loadConfig(env) throws a ConfigError naming the variable, for every required variable missing,
 *     empty or malformed, and for a rules file with a syntax error or an unknown field;
 *  2. initialize() logs that error once, at init (before any request), and every invocation then
 *     fails as our error — "Authorizer error" (500) with the Error metric — so the alarm fires,
 *     without the configuration problem leaking to the client.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Env, loadConfig } from "../../src/config";
import { ConfigError } from "../../src/errors";
import { createHandler, INTERNAL_ERROR, initialize } from "../../src/handler";
import { createObservability } from "../../src/observability";
import { emfMetricNames, parseLines } from "../support/capture";
import { EXAMPLE_RULES, fakeContext, SecretRegistry, useHarness } from "./support/harness";
import { eventFor } from "../support/events";
import { cognitoAccessClaims, TEST_CLIENT_ID, TEST_POOL_ID } from "../support/keys";

const secrets = new SecretRegistry();
const dir = mkdtempSync(join(tmpdir(), "authz-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const suite = useHarness(secrets);

const BASE = (): Record<string, string | undefined> => ({
  USER_POOL_ID: TEST_POOL_ID,
  CLIENT_ID: TEST_CLIENT_ID,
  JWKS_URI: suite.h.jwks.jwksUri,
});
const ISSUER_BASE = (): Record<string, string | undefined> => ({ ISSUER: suite.h.jwks.url, AUDIENCE: "api://pets" });

type Case = [label: string, env: () => Env, variable: string];
const rules = (doc: unknown) => JSON.stringify(doc);

const CASES: Case[] = [
  ["no issuer at all (USER_POOL_ID and ISSUER both missing)", () => ({}), "USER_POOL_ID"],
  ["USER_POOL_ID empty", () => ({ ...BASE(), USER_POOL_ID: "" }), "USER_POOL_ID"],
  ["USER_POOL_ID only spaces", () => ({ ...BASE(), USER_POOL_ID: "   " }), "USER_POOL_ID"],
  ["USER_POOL_ID malformed", () => ({ ...BASE(), USER_POOL_ID: "my-pool" }), "USER_POOL_ID"],
  ["USER_POOL_ID with an empty list entry", () => ({ ...BASE(), USER_POOL_ID: `${TEST_POOL_ID},` }), "USER_POOL_ID"],
  ["USER_POOL_ID that is a URL", () => ({ ...BASE(), USER_POOL_ID: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc" }), "USER_POOL_ID"],
  ["CLIENT_ID missing with USER_POOL_ID", () => ({ ...BASE(), CLIENT_ID: undefined }), "CLIENT_ID"],
  ["CLIENT_ID empty", () => ({ ...BASE(), CLIENT_ID: "" }), "CLIENT_ID"],
  ["CLIENT_ID without USER_POOL_ID", () => ({ ...ISSUER_BASE(), CLIENT_ID: TEST_CLIENT_ID }), "CLIENT_ID"],
  ["TOKEN_USE malformed", () => ({ ...BASE(), TOKEN_USE: "refresh" }), "TOKEN_USE"],
  ["TOKEN_USE empty", () => ({ ...BASE(), TOKEN_USE: "" }), "TOKEN_USE"],
  ["ISSUER not a URL", () => ({ ...ISSUER_BASE(), ISSUER: "not a url" }), "ISSUER"],
  ["ISSUER over plain http", () => ({ ...ISSUER_BASE(), ISSUER: "http://127.0.0.1:1" }), "ISSUER"],
  ["ISSUER empty", () => ({ ...ISSUER_BASE(), ISSUER: "" }), "ISSUER"],
  ["AUDIENCE missing with ISSUER", () => ({ ...ISSUER_BASE(), AUDIENCE: undefined }), "AUDIENCE"],
  ["AUDIENCE without ISSUER", () => ({ ...BASE(), AUDIENCE: "api://pets" }), "AUDIENCE"],
  ["JWKS_URI over plain http", () => ({ ...BASE(), JWKS_URI: "http://127.0.0.1/.well-known/jwks.json" }), "JWKS_URI"],
  ["JWKS_URI not a URL", () => ({ ...BASE(), JWKS_URI: "jwks.json" }), "JWKS_URI"],
  ["JWKS_URI with two issuers", () => ({ ...BASE(), USER_POOL_ID: `${TEST_POOL_ID},eu-west-1_Other2` }), "JWKS_URI"],
  ...["abc", "-1", "1.5", "0", "99999999", "", "2e3", "0x10"].map(
    (v): Case => [`JWKS_FETCH_TIMEOUT_MS "${v}"`, () => ({ ...BASE(), JWKS_FETCH_TIMEOUT_MS: v }), "JWKS_FETCH_TIMEOUT_MS"],
  ),
  ...["ten", "-5", "3601", ""].map((v): Case => [`JWKS_PENALTY_SECONDS "${v}"`, () => ({ ...BASE(), JWKS_PENALTY_SECONDS: v }), "JWKS_PENALTY_SECONDS"]),
  ...["1e3", "601", "30s", ""].map((v): Case => [`JWT_GRACE_SECONDS "${v}"`, () => ({ ...BASE(), JWT_GRACE_SECONDS: v }), "JWT_GRACE_SECONDS"]),
  ...["-1", "301", ""].map((v): Case => [`JWT_CLOCK_SKEW_SECONDS "${v}"`, () => ({ ...BASE(), JWT_CLOCK_SKEW_SECONDS: v }), "JWT_CLOCK_SKEW_SECONDS"]),
  ...["0", "86401", "1h", ""].map((v): Case => [`JWKS_MAX_AGE_SECONDS "${v}"`, () => ({ ...BASE(), JWKS_MAX_AGE_SECONDS: v }), "JWKS_MAX_AGE_SECONDS"]),
  ...["604801", "-1", ""].map((v): Case => [`JWKS_STALE_GRACE_SECONDS "${v}"`, () => ({ ...BASE(), JWKS_STALE_GRACE_SECONDS: v }), "JWKS_STALE_GRACE_SECONDS"]),
  ...["at jwt", "", "at+jwt,,JWT"].map((v): Case => [`JWT_TYP "${v}"`, () => ({ ...BASE(), JWT_TYP: v }), "JWT_TYP"]),
  ["ACCESS_RULES with a JSON syntax error", () => ({ ...BASE(), ACCESS_RULES: '{"rules": [' }), "ACCESS_RULES"],
  ["ACCESS_RULES empty", () => ({ ...BASE(), ACCESS_RULES: "" }), "ACCESS_RULES"],
  ["ACCESS_RULES an array", () => ({ ...BASE(), ACCESS_RULES: "[]" }), "ACCESS_RULES"],
  ["ACCESS_RULES with no rules", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [] }) }), "ACCESS_RULES"],
  ["ACCESS_RULES with an unknown top-level field", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET /pets", scopes: ["a"] }], default: "allow" }) }), "ACCESS_RULES"],
  ["ACCESS_RULES with an unknown rule field (typo 'scope')", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET /pets", scope: ["a"] }] }) }), "ACCESS_RULES"],
  ["ACCESS_RULES with a rule that grants nothing", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET /pets" }] }) }), "ACCESS_RULES"],
  ["ACCESS_RULES with a malformed route", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET pets", scopes: ["a"] }] }) }), "ACCESS_RULES"],
  ["ACCESS_RULES with scopes as a string", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET /pets", scopes: "a" }] }) }), "ACCESS_RULES"],
  ["ACCESS_RULES and ACCESS_RULES_FILE both set", () => ({ ...BASE(), ACCESS_RULES: rules({ rules: [{ route: "GET /pets", scopes: ["a"] }] }), ACCESS_RULES_FILE: EXAMPLE_RULES }), "ACCESS_RULES"],
  ["ACCESS_RULES_FILE that does not exist", () => ({ ...BASE(), ACCESS_RULES_FILE: join(dir, "missing.json") }), "ACCESS_RULES_FILE"],
  ["ACCESS_RULES_FILE empty variable", () => ({ ...BASE(), ACCESS_RULES_FILE: "" }), "ACCESS_RULES_FILE"],
  ["ACCESS_RULES_FILE with a JSON syntax error", () => ({ ...BASE(), ACCESS_RULES_FILE: file("syntax.json", '{ "rules": [ { "route": "GET /pets", } ] }') }), "ACCESS_RULES_FILE"],
  ["ACCESS_RULES_FILE with an unknown rule field", () => ({ ...BASE(), ACCESS_RULES_FILE: file("unknown.json", rules({ rules: [{ route: "GET /pets", scopes: ["a"], effect: "Allow" }] })) }), "ACCESS_RULES_FILE"],
  ["ACCESS_RULES_FILE that is a directory", () => ({ ...BASE(), ACCESS_RULES_FILE: dir }), "ACCESS_RULES_FILE"],
];

describe("layer 1: loadConfig names the variable", () => {
  test("control: the base environments load", () => {
    expect(loadConfig(BASE()).issuers).toHaveLength(1);
    expect(loadConfig(ISSUER_BASE()).issuers).toHaveLength(1);
    expect(loadConfig({ ...BASE(), ACCESS_RULES_FILE: EXAMPLE_RULES }).accessRules?.rules.length).toBeGreaterThan(0);
  });

  test.each(CASES)("%s → ConfigError naming it", (_label, env, variable) => {
    let error: unknown;
    try {
      loadConfig(env());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(variable);
  });
});

describe("layer 2: initialize logs it at init; every request is then our error (500, Error metric)", () => {
  test("control: the base environment Allows a valid token through the same path", async () => {
    const env = { ...BASE(), ACCESS_RULES_FILE: EXAMPLE_RULES };
    const deps = initialize(env, createObservability(env), { fetchOptions: { ca: suite.h.jwks.tls.caCert } });
    await deps.ready;
    const handler = createHandler(deps);
    await expect(handler(eventFor("token", suite.h.sign(cognitoAccessClaims(), suite.h.trusted)), fakeContext())).resolves.toHaveProperty("principalId");
  });

  test.each(CASES)("%s", async (_label, envFor, variable) => {
    const env = envFor();
    const mark = suite.output.lines.length;
    const deps = initialize(env, createObservability(env), { fetchOptions: { ca: suite.h.jwks.tls.caCert } });
    // Logged at init, before any request arrived.
    const atInit = parseLines(suite.output.since(mark));
    const configErrors = atInit.filter((r) => r.level === "ERROR" && String(r.error).includes(variable));
    expect(configErrors).toHaveLength(1);
    expect(configErrors[0].reason).toBe("ConfigError");

    const handler = createHandler(deps);
    for (let i = 0; i < 2; i += 1) {
      const requestMark = suite.output.lines.length;
      const event = eventFor("token", suite.h.sign(cognitoAccessClaims(), suite.h.trusted));
      const outcome = await handler(event, fakeContext()).then(
        () => "resolved",
        (err: Error) => err.message,
      );
      expect(outcome).toBe(INTERNAL_ERROR); // the client learns nothing about the configuration
      const records = parseLines(suite.output.since(requestMark));
      expect(emfMetricNames(records).filter((n) => n !== "ColdStart")).toEqual(["Error"]);
      const decision = records.find((r) => r.message === "decision");
      expect(decision).toMatchObject({ decision: "Error", reason: "ConfigError" });
    }
  });
});

test("no secret in any captured line", () => {
  expect(secrets.foundIn(suite.output.lines.join("\n"))).toEqual([]);
});
