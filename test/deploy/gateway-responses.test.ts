/**
 * The REST API's refusals are ones clients can act on (RFC 6750 §3): a 401 says
 * `WWW-Authenticate: Bearer realm="…", error="invalid_token"`, a 403 `error="insufficient_scope"`,
 * every one has a JSON body, and browsers may read them when CorsAllowOrigin is set. The README's
 * deploy section shows exactly these headers and bodies.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type JsonObject, loadTemplate, REPO_ROOT, resolveTemplate } from "./cfn";
import { resourceSpec, specDatabase } from "./cfn-spec";
import { DPOP_ALGORITHMS } from "../../src/dpop";

const template = loadTemplate();

interface GatewayResponse {
  StatusCode: number;
  ResponseParameters: { Headers: Record<string, string> };
  ResponseTemplates: Record<string, string>;
}
const responsesOf = (parameters: Record<string, string> = {}) =>
  resolveTemplate(template, { parameters }).resources.Api.Properties.GatewayResponses as unknown as Record<string, GatewayResponse>;

/** Default status codes of these gateway response types, from AWS's "Gateway response types" table. */
const DOCUMENTED_STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  ACCESS_DENIED: 403,
  AUTHORIZER_FAILURE: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
};

/** A static header value in a gateway response is a quoted literal: 'value'. */
const literal = (value: string): string => {
  const m = /^'([^']*)'$/.exec(value);
  if (!m) throw new Error(`${value} is not a static '…' header value`);
  return m[1];
};

/** RFC 6750 §3 challenge: Bearer, then comma-separated auth-params name="quoted value". */
function bearerChallenge(header: string): Record<string, string> | undefined {
  const m = /^Bearer ((?:[a-z_]+="[^"\\]*"(?:, |$))+)$/.exec(header);
  if (!m) return undefined;
  return Object.fromEntries([...m[1].matchAll(/([a-z_]+)="([^"\\]*)"/g)].map((p) => [p[1], p[2]]));
}

/** The body a client gets: the template with API Gateway's $context substitutions made. */
const body = (response: GatewayResponse, message: string) =>
  JSON.parse(
    response.ResponseTemplates["application/json"]
      .replace("$context.error.messageString", JSON.stringify(message))
      .replace("$context.requestId", "r-1"),
  ) as { error: string; message: string; requestId: string };

describe("the REST API's gateway responses", () => {
  it("cover the authorizer's outcomes with the documented status codes", () => {
    const responses = responsesOf();
    expect(Object.fromEntries(Object.entries(responses).map(([type, r]) => [type, r.StatusCode]))).toEqual(DOCUMENTED_STATUS);
  });

  it("challenge a 401 with invalid_token and a 403 with insufficient_scope, in the realm AuthRealm names", () => {
    const responses = responsesOf({ AuthRealm: "pets api" });
    const challenge = (type: string) => bearerChallenge(literal(responses[type].ResponseParameters.Headers["WWW-Authenticate"]));
    expect(challenge("UNAUTHORIZED")).toEqual({ realm: "pets api", error: "invalid_token" });
    expect(challenge("ACCESS_DENIED")).toEqual({ realm: "pets api", error: "insufficient_scope" });
    // A server error is no challenge: nothing the client can do with its token helps.
    expect(responses.AUTHORIZER_FAILURE.ResponseParameters.Headers["WWW-Authenticate"]).toBeUndefined();
    // The parser refuses what a client would not parse.
    expect(bearerChallenge('Bearer realm=api, error="invalid_token"')).toBeUndefined();
    expect(bearerChallenge('Basic realm="api"')).toBeUndefined();
  });

  it("add a DPoP challenge with the proof algorithms the authorizer verifies when bound tokens are checked", () => {
    const header = (mode: string) => literal(responsesOf({ AuthRealm: "pets api", BoundTokens: mode }).UNAUTHORIZED.ResponseParameters.Headers["WWW-Authenticate"]);
    expect(header("refuse")).toBe('Bearer realm="pets api", error="invalid_token"');
    for (const mode of ["accept", "require"]) {
      const [bearer, dpop] = header(mode).split(", DPoP ");
      expect(bearerChallenge(bearer)).toEqual({ realm: "pets api", error: "invalid_token" });
      expect(bearerChallenge(`Bearer ${dpop}`)).toEqual({ realm: "pets api", algs: DPOP_ALGORITHMS.join(" ") });
    }
  });

  it("cannot put a quote into the challenge through AuthRealm", () => {
    const realm = new RegExp(String(template.Parameters.AuthRealm.AllowedPattern));
    expect(["api", "Pets API v2", "pets.example.com/v1"].every((r) => realm.test(r))).toBe(true);
    expect(['a"b', "a'b", "a\\b", ""].some((r) => realm.test(r))).toBe(false);
  });

  it("answer JSON whose error is the challenge's, with API Gateway's message and the request id", () => {
    const responses = responsesOf();
    for (const [type, r] of Object.entries(responses)) {
      const parsed = body(r, "Unauthorized");
      const challenge = r.ResponseParameters.Headers["WWW-Authenticate"];
      const expected = challenge ? bearerChallenge(literal(challenge))!.error : "server_error";
      expect({ type, ...parsed }).toEqual({ type, error: expected, message: "Unauthorized", requestId: "r-1" });
    }
    // A message with quotes stays JSON: $context.error.messageString is already quoted.
    expect(body(responses.ACCESS_DENIED, 'User is not "authorized"').message).toBe('User is not "authorized"');
  });

  it("let a browser read them only when CorsAllowOrigin is set", () => {
    for (const r of Object.values(responsesOf())) {
      expect(Object.keys(r.ResponseParameters.Headers).filter((h) => h.startsWith("Access-Control-"))).toEqual([]);
    }
    const cors = responsesOf({ CorsAllowOrigin: "https://app.example.com" });
    for (const [type, r] of Object.entries(cors)) {
      expect({ type, origin: literal(r.ResponseParameters.Headers["Access-Control-Allow-Origin"]) }).toEqual({ type, origin: "https://app.example.com" });
      const challenged = "WWW-Authenticate" in r.ResponseParameters.Headers;
      const exposed = r.ResponseParameters.Headers["Access-Control-Expose-Headers"];
      expect({ type, exposed: exposed && literal(exposed) }).toEqual({ type, exposed: challenged ? "WWW-Authenticate" : undefined });
    }
    const origin = new RegExp(String(template.Parameters.CorsAllowOrigin.AllowedPattern));
    expect(["", "*", "https://app.example.com", "http://localhost:3000"].every((o) => origin.test(o))).toBe(true);
    expect(["https://app.example.com/", "app.example.com", "https://a.com, https://b.com", "'*'"].some((o) => origin.test(o))).toBe(false);
  });

  it("are the headers and bodies the README's deploy section shows", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Deploy and operate"), readme.indexOf("\n## ", readme.indexOf("## Deploy and operate") + 1));
    const rows = section
      .split("\n")
      .filter((line) => /^\| \d{3} \| `[A-Z_]+` \|/.test(line))
      .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim().replace(/^`|`$/g, "")));
    expect(rows.length).toBe(Object.keys(DOCUMENTED_STATUS).length);
    const responses = responsesOf(); // AuthRealm's default, as the README says
    expect(template.Parameters.AuthRealm.Default).toBe("api");
    for (const [status, type, challenge, shown] of rows) {
      const r = responses[type];
      expect({ type, status: r?.StatusCode }).toEqual({ type, status: Number(status) });
      const header = r.ResponseParameters.Headers["WWW-Authenticate"];
      expect({ type, challenge: header ? literal(header) : "—" }).toEqual({ type, challenge });
      // The README's body, with "…" for what varies per request.
      const actual = body(r, "MESSAGE");
      const readmeBody = JSON.parse(shown) as Record<string, string>;
      expect({ type, error: readmeBody.error, keys: Object.keys(readmeBody) }).toEqual({ type, error: actual.error, keys: Object.keys(actual) });
    }
  });

  it("exist only for REST APIs: CloudFormation has no gateway responses for HTTP APIs", () => {
    const db = specDatabase();
    expect(resourceSpec(db, "AWS::ApiGateway::GatewayResponse")).toBeDefined();
    expect(resourceSpec(db, "AWS::ApiGatewayV2::GatewayResponse")).toBeUndefined();
    expect((template.Resources.HttpApi.Properties as JsonObject).GatewayResponses).toBeUndefined();
  });
});
