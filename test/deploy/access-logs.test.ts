/**
 * Both APIs write JSON access logs of documented `$context` variables into their own log groups, and
 * the saved Logs Insights queries (and the dashboard tables that run them) read only fields those
 * logs, or the authorizer's decision lines, really have.
 */
import type { Widget } from "./metrics";
import { accessLogFormatProblems, type ApiKind } from "./apigateway-context";
import { type JsonObject, loadTemplate, type Resolved, resolveTemplate } from "./cfn";
import { recordsOfEveryDecision } from "./handler-run";

const template = loadTemplate();
const resolved = resolveTemplate(template);

const APIS: { kind: ApiKind; api: string; setting: string; group: string; query: string }[] = [
  { kind: "REST", api: "Api", setting: "AccessLogSetting", group: "ApiAccessLogGroup", query: "ApiErrorsQuery" },
  { kind: "HTTP", api: "HttpApi", setting: "AccessLogSettings", group: "HttpApiAccessLogGroup", query: "HttpApiErrorsQuery" },
];

const accessLog = (r: Resolved, api: string, setting: string) => r.resources[api].Properties[setting] as { DestinationArn: string; Format: string };
const formatOf = (api: string, setting: string): Record<string, string> =>
  JSON.parse(accessLog(resolved, api, setting).Format) as Record<string, string>;

/** The field names a Logs Insights query reads (after fields/filter/stats/sort), without @-fields. */
function queryFields(query: string): string[] {
  const names = new Set<string>();
  for (const part of query.split("|").map((p) => p.trim())) {
    const [command, ...rest] = part.split(/\s+/);
    if (!["fields", "filter", "stats", "sort", "display"].includes(command)) continue;
    const text = rest
      .join(" ")
      .replace(/"[^"]*"|'[^']*'|\/[^/]*\//g, " ") // strings and regexes
      .replace(/\b(and|or|not|like|in|as|by|asc|desc|count|sum|avg|pct|min|max|bin)\b/g, " ");
    for (const m of text.matchAll(/(?<![@\w])([A-Za-z_][A-Za-z0-9_.]*)/g)) {
      if (!/^\d/.test(m[1])) names.add(m[1]);
    }
  }
  return [...names];
}

describe("access logs", () => {
  it.each(APIS)("the $kind API logs JSON of documented $context variables, with the request id", ({ kind, api, setting }) => {
    expect(accessLogFormatProblems(kind, accessLog(resolved, api, setting).Format)).toEqual([]);
  });

  it("the check refuses a misspelt or undocumented variable, a non-JSON format and a missing request id", () => {
    expect(accessLogFormatProblems("REST", '{"requestId":"$context.requestId","a":"$context.authorizer.latncy"}')).toEqual([
      "a: $context.authorizer.latncy is not a documented REST API access-log variable",
    ]);
    // Documented for REST APIs, but not (in every published version) for HTTP APIs.
    expect(accessLogFormatProblems("HTTP", '{"requestId":"$context.requestId","a":"$context.authorizer.latency"}')).toHaveLength(1);
    expect(accessLogFormatProblems("REST", '{"a":"$context.status"}')).toEqual(["$context.requestId is missing"]);
    expect(accessLogFormatProblems("REST", "$context.requestId $context.status")[0]).toMatch(/not JSON/);
    expect(accessLogFormatProblems("REST", '{"requestId":"$context.requestId","h":"$input.params(\'Authorization\')"}')).toHaveLength(1);
  });

  it("give on-call what the issue asks for: the authorizer's error, latency and status, the error type and the status", () => {
    const rest = Object.values(formatOf("Api", "AccessLogSetting"));
    for (const v of ["authorizer.error", "authorizer.latency", "authorizer.status", "error.responseType", "status"]) expect(rest).toContain(`$context.${v}`);
    const http = Object.values(formatOf("HttpApi", "AccessLogSettings"));
    for (const v of ["authorizer.error", "error.responseType", "status"]) expect(http).toContain(`$context.${v}`);
  });

  it.each(APIS)("the $kind API logs into its own log group, by an ARN without the trailing :*", ({ api, setting, group }) => {
    const arn = accessLog(resolved, api, setting).DestinationArn;
    expect(arn).toBe(`arn:aws:logs:eu-west-1:123456789012:log-group:${resolved.refs[group]}`);
    expect(resolved.resources[group].Properties.RetentionInDays).toBe(resolved.parameters.LogRetentionDays);
    const others = APIS.filter((a) => a.api !== api).map((a) => accessLog(resolved, a.api, a.setting).DestinationArn);
    expect(others).not.toContain(arn);
  });

  it("REST access logging has the account's CloudWatch role when this stack is asked to set it", () => {
    expect(resolved.resources.ApiGatewayAccount).toBeUndefined();
    const withRole = resolveTemplate(template, { parameters: { CreateApiGatewayCloudWatchRole: "true" } });
    expect(withRole.resources.ApiGatewayAccount.Properties.CloudWatchRoleArn).toBe(`arn:aws:iam::123456789012:role/${withRole.refs.ApiGatewayCloudWatchRole}`);
    expect(JSON.stringify(withRole.resources.ApiGatewayCloudWatchRole.Properties)).toContain("AmazonAPIGatewayPushToCloudWatchLogs");
    // The stage names the account setting, so CloudFormation creates the setting first.
    expect((withRole.resources.Api.Properties.Variables as JsonObject).cloudWatchRole).toBe(withRole.refs.ApiGatewayAccount);
  });
});

describe("saved Logs Insights queries", () => {
  const queries = Object.entries(resolved.resources).filter(([, r]) => r.Type === "AWS::Logs::QueryDefinition");
  const body = JSON.parse(String(resolved.resources.Dashboard.Properties.DashboardBody)) as { widgets: Widget[] };

  it.each(APIS)("the $kind API errors query reads its access log group and only fields that log has", ({ api, setting, group, query }) => {
    const q = resolved.resources[query].Properties;
    expect(q.LogGroupNames).toEqual([resolved.refs[group]]);
    const fields = queryFields(String(q.QueryString));
    expect(fields.length).toBeGreaterThanOrEqual(5);
    const logged = Object.keys(formatOf(api, setting));
    expect(fields.filter((f) => !logged.includes(f))).toEqual([]);
  });

  it("the authorizer refusals query reads the authorizer's log group and only fields its decision lines have", async () => {
    const q = resolved.resources.AuthorizerRefusalsQuery.Properties;
    expect(q.LogGroupNames).toEqual([resolved.refs.AuthorizerLogGroup]);
    const lines = (await recordsOfEveryDecision(resolved)).filter((r) => r.message === "decision");
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const logged = new Set(lines.flatMap((l) => Object.keys(l)));
    expect(queryFields(String(q.QueryString)).filter((f) => !logged.has(f))).toEqual([]);
  });

  it("the field reader finds a field a log does not have", () => {
    expect(queryFields('fields @timestamp, status | filter authorizerStatuss like /^4/ and decision = "Deny"')).toEqual([
      "status",
      "authorizerStatuss",
      "decision",
    ]);
  });

  it("each runs on the dashboard as it is saved, and the dashboard links to them by name", () => {
    expect(queries.map(([id]) => id).sort()).toEqual(["ApiErrorsQuery", "AuthorizerRefusalsQuery", "HttpApiErrorsQuery"]);
    const logQueries = body.widgets.filter((w) => w.type === "log").map((w) => String(w.properties.query));
    const text = body.widgets.filter((w) => w.type === "text").map((w) => String(w.properties.markdown)).join("\n");
    for (const [, q] of queries) {
      const groups = (q.Properties.LogGroupNames as string[]).map((g) => `SOURCE '${g}'`).join(" ");
      expect(logQueries).toContain(`${groups} | ${String(q.Properties.QueryString)}`);
      expect(String(q.Properties.Name)).toMatch(/^pets-auth\//);
      expect(text).toContain(String(q.Properties.Name));
    }
    expect(text).toContain("https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights");
  });
});
