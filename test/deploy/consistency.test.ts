/**
 * template.yml agrees with the code: the dashboard and alarms read exactly the metrics the handler
 * emits (found by running the real handler with the template's environment and reading its EMF
 * output), the function's environment is one loadConfig accepts, and the API's authorizer is
 * wired the way the event reader and the cache TTL expect.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BOUND_TOKEN_MODES, CONFIG_VARIABLES, DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, loadConfig } from "../../src/config";
import { DECISIONS, type Decision } from "../../src/errors";
import { readEvent } from "../../src/event";
import { type Json, type JsonObject, loadTemplate, REPO_ROOT, type Resolved, resolveTemplate } from "./cfn";
import { functionEnv, recordsOfEveryDecision } from "./handler-run";
import { awsMetricDimensionSets, specDatabase } from "./cfn-spec";
import {
  alarmMetrics,
  dashboardMetrics,
  type EmittedMetric,
  emfMetrics,
  type MetricRef,
  type MetricUse,
  undefinedExpressionIds,
  unmatchedReferences,
  type Widget,
} from "./metrics";

const template = loadTemplate();

function dashboardBody(resolved: Resolved): { widgets: Widget[] } {
  const body = resolved.resources.Dashboard.Properties.DashboardBody;
  if (typeof body !== "string") throw new Error("DashboardBody must be a string once substituted");
  return JSON.parse(body) as { widgets: Widget[] };
}

/** Everything the dashboard and the alarms read. */
function metricUse(resolved: Resolved): MetricUse {
  const d = dashboardMetrics(dashboardBody(resolved));
  const a = alarmMetrics(resolved);
  return { metrics: [...d.metrics, ...a.metrics], expressions: [...d.expressions, ...a.expressions] };
}

async function emittedByHandler(resolved: Resolved): Promise<EmittedMetric[]> {
  return (await recordsOfEveryDecision(resolved)).flatMap(emfMetrics);
}

const CUSTOM = (resolved: Resolved) => resolved.parameters.MetricsNamespace;

describe("the dashboard and alarms read the metrics the code emits", () => {
  const deployments: [string, Record<string, string>][] = [
    ["default parameters", {}],
    ["a renamed service and namespace", { ServiceName: "orders-authorizer", MetricsNamespace: "Acme/Auth" }],
  ];

  it.each(deployments)("every custom metric reference matches an emitted metric exactly (%s)", async (_, parameters) => {
    const resolved = resolveTemplate(template, { parameters });
    const emitted = await emittedByHandler(resolved);
    // The handler really published every decision and the cold start.
    const emittedNames = new Set(emitted.map((e) => e.metricName));
    for (const d of DECISIONS) expect(emittedNames).toContain(d);
    expect(emittedNames).toContain("ColdStart");

    const custom = metricUse(resolved).metrics.filter((m) => !m.namespace.startsWith("AWS/"));
    expect(custom.length).toBeGreaterThan(10);
    expect(new Set(custom.map((m) => m.namespace))).toEqual(new Set([CUSTOM(resolved)]));
    expect(unmatchedReferences(custom, emitted)).toEqual([]);
  });

  it("would notice a reference without the service dimension, or with a wrong value or namespace", async () => {
    const resolved = resolveTemplate(template);
    const emitted = await emittedByHandler(resolved);
    const good = metricUse(resolved).metrics.find((m) => m.metricName === "Error")!;
    const variants: MetricRef[] = [
      { ...good, dimensions: {} },
      { ...good, dimensions: { service: "someone-else" } },
      { ...good, namespace: "Other" },
      { ...good, metricName: "Errors" },
      { ...metricUse(resolved).metrics.find((m) => m.metricName === "ColdStart")!, dimensions: { service: resolved.parameters.ServiceName } },
    ];
    expect(unmatchedReferences([good], emitted)).toEqual([]);
    expect(unmatchedReferences(variants, emitted)).toHaveLength(variants.length);
  });

  it("reads AWS/Lambda and AWS/ApiGateway metrics with dimension sets AWS publishes, for this stack's function and API", () => {
    const resolved = resolveTemplate(template);
    const db = specDatabase();
    const builtIn = metricUse(resolved).metrics.filter((m) => m.namespace.startsWith("AWS/"));
    expect(builtIn.length).toBeGreaterThan(5);
    const apiName = String(resolved.resources.Api.Properties.Name);
    const fn = resolved.refs.AuthorizerFunction;
    const alias = String(template.Resources.AuthorizerFunction.Properties!.AutoPublishAlias);
    const expected = (m: MetricRef): Record<string, string> | undefined => {
      // The whole function, or (Resource) the invocations through the alias the APIs call.
      if (m.namespace === "AWS/Lambda") return "Resource" in m.dimensions ? { FunctionName: fn, Resource: `${fn}:${alias}` } : { FunctionName: fn };
      if (m.namespace !== "AWS/ApiGateway") return undefined;
      // REST APIs publish by name and stage, HTTP APIs by id.
      return "ApiId" in m.dimensions ? { ApiId: resolved.refs.HttpApi } : { ApiName: apiName, Stage: resolved.parameters.StageName };
    };
    const apiIdRefs = builtIn.filter((m) => "ApiId" in m.dimensions);
    expect(apiIdRefs.length).toBeGreaterThanOrEqual(3);
    for (const m of builtIn) {
      const sets = awsMetricDimensionSets(db, m.namespace, m.metricName);
      expect({ metric: `${m.namespace}/${m.metricName}`, known: sets !== undefined }).toEqual({ metric: `${m.namespace}/${m.metricName}`, known: true });
      expect(sets).toContainEqual(Object.keys(m.dimensions).sort());
      expect({ source: m.source, dimensions: m.dimensions }).toEqual({ source: m.source, dimensions: expected(m) });
    }
    // And the spec check itself can fail.
    expect(awsMetricDimensionSets(db, "AWS/Lambda", "Throttles")).not.toContainEqual(["ApiName", "Stage"]);
    expect(awsMetricDimensionSets(db, "AWS/Lambda", "NoSuchMetric")).toBeUndefined();
  });

  it("uses only metric-math ids that are defined in the same widget or alarm", () => {
    const use = metricUse(resolveTemplate(template));
    expect(use.expressions.length).toBeGreaterThanOrEqual(5);
    expect(undefinedExpressionIds(use)).toEqual([]);
    const broken: MetricUse = { ...use, expressions: [...use.expressions, { source: use.expressions[0].source, id: "x", expression: "100 * typo / total" }] };
    expect(undefinedExpressionIds(broken)).toEqual([expect.stringMatching(/undefined id typo/)]);
  });
});

describe("the dashboard", () => {
  const resolved = resolveTemplate(template);
  const body = dashboardBody(resolved);
  const use = dashboardMetrics(body);
  const widgetsReading = (namespace: string, name: string, stat?: string) =>
    use.metrics.filter((m) => m.namespace === namespace && m.metricName === name && (stat === undefined || m.stat === stat));

  it("is valid JSON once substituted, with no ${…} left over", () => {
    expect(Array.isArray(body.widgets)).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/\$\{/);
    for (const w of body.widgets) expect(["metric", "alarm", "log", "text"]).toContain(w.type);
  });

  it("charts every decision the code counts, in one widget", () => {
    const ns = CUSTOM(resolved);
    const decisionWidgets = DECISIONS.map((d) => new Set(widgetsReading(ns, d).map((m) => m.source)));
    const shared = [...decisionWidgets[0]].filter((source) => decisionWidgets.every((s) => s.has(source)));
    expect(shared.length).toBeGreaterThanOrEqual(1);
  });

  it("shows the deny rate and the 401 rate as percentages of all decisions", () => {
    const rates = dashboardMetrics(body).expressions;
    const byId = new Map(rates.map((e) => [e.id, e.expression]));
    const ids = new Map(use.metrics.filter((m) => m.id).map((m) => [m.metricName, m.id!]));
    const total = rates.find((e) => DECISIONS.every((d) => e.expression.includes(ids.get(d) ?? "?")));
    expect(total).toBeDefined();
    const deny = [...byId.values()].find((e) => e.startsWith("100 *") && e.includes(ids.get("Deny")!) && e.includes(total!.id));
    const unauthorized = [...byId.values()].find(
      (e) => e.startsWith("100 *") && e.includes(ids.get("Expired")!) && e.includes(ids.get("Invalid")!) && e.includes(total!.id),
    );
    expect({ deny, unauthorized }).toEqual({ deny: expect.any(String), unauthorized: expect.any(String) });
  });

  it("has cold starts, duration p50/p99, Lambda errors/throttles/concurrency and API 4XX/5XX/latency", () => {
    expect(widgetsReading(CUSTOM(resolved), "ColdStart")).toHaveLength(1);
    expect(widgetsReading("AWS/Lambda", "Duration", "p50")).toHaveLength(1);
    expect(widgetsReading("AWS/Lambda", "Duration", "p99")).toHaveLength(1);
    for (const name of ["Errors", "Throttles", "ConcurrentExecutions"]) expect(widgetsReading("AWS/Lambda", name)).toHaveLength(1);
    for (const name of ["4XXError", "5XXError"]) expect(widgetsReading("AWS/ApiGateway", name, "Sum")).toHaveLength(1);
    expect(widgetsReading("AWS/ApiGateway", "Latency", "p99").map((m) => Object.keys(m.dimensions).sort())).toEqual([
      ["ApiName", "Stage"],
      ["ApiId"],
    ]);
    for (const name of ["4xx", "5xx"]) expect(widgetsReading("AWS/ApiGateway", name, "Sum")).toHaveLength(1);
  });

  it("shows the state of every alarm in the template and queries the authorizer's own log group", () => {
    const alarmWidget = body.widgets.find((w) => w.type === "alarm");
    // Every alarm the stack always has (the optional 4XX-rate alarms cannot be named in a fixed body).
    const alarmArns = Object.entries(resolved.resources)
      .filter(([id, r]) => r.Type === "AWS::CloudWatch::Alarm" && template.Resources[id].Condition === undefined)
      .map(([id]) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${resolved.refs[id]}`);
    expect(alarmWidget?.properties.alarms).toEqual(alarmArns);
    const log = body.widgets.find((w) => w.type === "log");
    expect(String(log?.properties.query)).toContain(`SOURCE '${resolved.refs.AuthorizerLogGroup}'`);
    // The decision log line the query filters on is the one the handler writes.
    expect(readFileSync(join(REPO_ROOT, "src", "handler.ts"), "utf8")).toMatch(/logger\.(info|error)\("decision"/);
  });
});

describe("the alarms", () => {
  const resolved = resolveTemplate(template);
  const alarms = Object.entries(resolved.resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
  const alarm = (id: string) => resolved.resources[id].Properties;

  it("treat missing data as not breaching and notify the alarm topic", () => {
    expect(alarms.map(([id]) => id).sort()).toEqual([
      "ApiServerErrorAlarm",
      "AuthorizerErrorAlarm",
      "AuthorizerLatencyAlarm",
      "DurationP99Alarm",
      "HttpApiServerErrorAlarm",
      "JwksRefreshFailedAlarm",
      "ThrottleAlarm",
      "UnauthorizedRateAlarm",
    ]);
    const withRates = resolveTemplate(template, { parameters: { Api4xxRateThreshold: "5" } });
    const all = Object.entries(withRates.resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
    expect(all.map(([id]) => id).filter((id) => !alarms.some(([a]) => a === id)).sort()).toEqual(["ApiClientErrorRateAlarm", "HttpApiClientErrorRateAlarm"]);
    for (const [, a] of [...alarms, ...all]) {
      expect(a.Properties.TreatMissingData).toBe("notBreaching");
      expect(a.Properties.AlarmActions).toEqual([resolved.refs.AlarmTopic]);
    }
  });

  it("fire on the first authorizer Error, not on Lambda's Errors (which count every 401)", () => {
    const a = alarm("AuthorizerErrorAlarm");
    expect(a).toMatchObject({ Namespace: CUSTOM(resolved), MetricName: "Error", Statistic: "Sum", Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    expect(DECISIONS).toContain(a.MetricName as Decision);
    const anyLambdaErrors = alarmMetrics(resolved).metrics.some((m) => m.namespace === "AWS/Lambda" && m.metricName === "Errors");
    expect(anyLambdaErrors).toBe(false);
  });

  it("compute the 401 rate as (Expired + Invalid) over all decisions", () => {
    const use = alarmMetrics(resolved);
    const own = (id: string) => use.metrics.filter((m) => m.source === `alarm ${id}`);
    const idOf = new Map(own("UnauthorizedRateAlarm").map((m) => [m.metricName, m.id!]));
    expect([...idOf.keys()].sort()).toEqual([...DECISIONS].sort());
    const expressions = new Map(use.expressions.filter((e) => e.source === "alarm UnauthorizedRateAlarm").map((e) => [e.id, e.expression]));
    const returned = (alarm("UnauthorizedRateAlarm").Metrics as JsonObject[]).filter((q) => q.ReturnData === true);
    expect(returned).toHaveLength(1);
    const rate = expressions.get(String(returned[0].Id))!;
    const totalId = [...expressions.entries()].find(([, e]) => DECISIONS.every((d) => e.includes(idOf.get(d)!)))?.[0];
    expect(totalId).toBeDefined();
    expect(rate).toContain(`(FILL(${idOf.get("Expired")}, 0) + FILL(${idOf.get("Invalid")}, 0)) / ${totalId}`);
    expect(rate).not.toContain(`FILL(${idOf.get("Deny")}`);
  });

  it("warn on p99 duration well before API Gateway's 10 s limit and within the function timeout, whatever Timeout is", () => {
    const { MinValue, MaxValue } = template.Parameters.Timeout;
    expect(MaxValue).toBeLessThanOrEqual(10);
    for (let timeout = MinValue!; timeout <= MaxValue!; timeout++) {
      const r = resolveTemplate(template, { parameters: { Timeout: String(timeout) } });
      const a = r.resources.DurationP99Alarm.Properties;
      const timeoutMs = Number(r.resources.AuthorizerFunction.Properties.Timeout) * 1000;
      expect(a).toMatchObject({ Namespace: "AWS/Lambda", MetricName: "Duration", ExtendedStatistic: "p99" });
      expect({ timeout, threshold: Number(a.Threshold) }).toEqual({ timeout, threshold: timeoutMs * 0.75 });
      // The dashboard draws the same line.
      const duration = dashboardBody(r).widgets.find((w) => String(w.properties.title).startsWith("Authorizer duration"));
      const lines = (duration?.properties.annotations as { horizontal: { label: string; value: number }[] }).horizontal;
      expect(lines.find((l) => l.label === "p99 alarm")?.value).toBe(timeoutMs * 0.75);
    }
    expect(Number(alarm("DurationP99Alarm").Threshold)).toBe(6000); // the default 8 s
  });

  it("watch Lambda throttles of the authorizer", () => {
    expect(alarm("ThrottleAlarm")).toMatchObject({ Namespace: "AWS/Lambda", MetricName: "Throttles", Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
  });

  it("e-mail only when an address is given", () => {
    expect(resolved.resources.AlarmEmailSubscription).toBeUndefined();
    const withEmail = resolveTemplate(template, { parameters: { AlarmEmail: "ops@example.com" } });
    expect(withEmail.resources.AlarmEmailSubscription.Properties).toEqual({
      TopicArn: withEmail.refs.AlarmTopic,
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
    const pattern = new RegExp(String(template.Parameters.AlarmEmail.AllowedPattern));
    expect(["", "ops@example.com"].map((v) => pattern.test(v))).toEqual([true, true]);
    expect(["ops", "ops@", "a b@example.com"].map((v) => pattern.test(v))).toEqual([false, false, false]);
  });
});

describe("the authorizer function's settings agree with the code", () => {
  const resolved = resolveTemplate(template);
  const fn = resolved.resources.AuthorizerFunction;
  const env = functionEnv(resolved);

  it("sets only variables the code reads, and the ones it requires", () => {
    for (const name of Object.keys(env)) {
      expect({ name, known: (CONFIG_VARIABLES as readonly string[]).includes(name) || name.startsWith("POWERTOOLS_") }).toEqual({ name, known: true });
    }
    expect(env).toMatchObject({ USER_POOL_ID: expect.any(String), CLIENT_ID: expect.any(String) });
    expect(() => loadConfig({})).toThrow(/USER_POOL_ID/); // so leaving them out would fail
  });

  it("gives an environment loadConfig accepts, with and without access rules", () => {
    const config = loadConfig(env);
    expect(config.issuers).toEqual([
      {
        kind: "cognito",
        userPoolId: "eu-west-1_AbCdEf123",
        clientIds: ["1example23456789abcdefghij", "2example23456789abcdefghij"],
        tokenUse: "access",
      },
    ]);
    expect(config.accessRules).toBeUndefined();
    expect("ACCESS_RULES" in env).toBe(false); // an empty parameter must not become an empty variable

    const rules = JSON.stringify(JSON.parse(readFileSync(join(REPO_ROOT, "access-rules.example.json"), "utf8")));
    const withRules = functionEnv(resolveTemplate(template, { parameters: { AccessRules: rules, TokenUse: "id" } }));
    const ruled = loadConfig(withRules);
    expect(ruled.accessRules).toBeDefined();
    expect(ruled.issuers[0]).toMatchObject({ tokenUse: "id" });
  });

  it("can point ACCESS_RULES_FILE at the rules file the image ships", () => {
    const fileEnv = functionEnv(resolveTemplate(template, { parameters: { AccessRulesFile: "access-rules.json" } }));
    expect(fileEnv.ACCESS_RULES_FILE).toBe("access-rules.json");
    expect("ACCESS_RULES" in fileEnv).toBe(false);
    // The Dockerfile's runtime stage copies access-rules.example.json to ${LAMBDA_TASK_ROOT}/access-rules.json.
    const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
    const copy = /^COPY\s+(\S+)\s+\$\{LAMBDA_TASK_ROOT\}\/access-rules\.json\s*$/m.exec(dockerfile);
    expect(copy?.[1]).toBe("access-rules.example.json");
    // So in Lambda (LAMBDA_TASK_ROOT=/var/task) loadConfig reads the file the image holds.
    const read: string[] = [];
    const config = loadConfig(
      { ...fileEnv, LAMBDA_TASK_ROOT: "/var/task" },
      {
        baseDir: "/var/task",
        readFile: (path) => {
          read.push(path);
          return readFileSync(join(REPO_ROOT, copy![1]), "utf8");
        },
      },
    );
    expect(read).toEqual(["/var/task/access-rules.json"]);
    expect(config.accessRules).toBeDefined();
  });

  it("uses the code's default namespace and service name unless told otherwise", () => {
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(DEFAULT_SERVICE_NAME);
    expect(env).toMatchObject({
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
      POWERTOOLS_TRACER_CAPTURE_ERROR: "false",
      POWERTOOLS_LOGGER_LOG_EVENT: "false",
      POWERTOOLS_LOG_LEVEL: "INFO",
    });
    const renamed = resolveTemplate(template, { parameters: { ServiceName: "svc-b", MetricsNamespace: "Ns/B" } });
    expect(functionEnv(renamed)).toMatchObject({ POWERTOOLS_SERVICE_NAME: "svc-b", POWERTOOLS_METRICS_NAMESPACE: "Ns/B" });
    const dims = metricUse(renamed).metrics.filter((m) => !m.namespace.startsWith("AWS/"));
    expect(dims.every((m) => m.namespace === "Ns/B" && m.dimensions.service === "svc-b")).toBe(true);
  });

  it("accepts the user pool ids the code accepts, and refuses the ones it refuses", () => {
    const pattern = new RegExp(String(template.Parameters.UserPoolId.AllowedPattern));
    const samples = ["eu-west-1_AbCdEf123", "us-gov-west-1_abc", "eu-west-1AbCdEf123", "eu-west-1_", "https://example.com", "eu_west_1"];
    const codeAccepts = (id: string) => {
      try {
        loadConfig({ USER_POOL_ID: id, CLIENT_ID: "abc" });
        return true;
      } catch {
        return false;
      }
    };
    expect(samples.map((s) => pattern.test(s))).toEqual(samples.map(codeAccepts));
    expect(samples.map(codeAccepts)).toEqual([true, true, false, false, false, false]);
  });

  it("is a traced container image with a short timeout, its own log group and the Dockerfile the build uses", () => {
    expect(fn.Properties).toMatchObject({ PackageType: "Image", Tracing: "Active", LoggingConfig: { LogGroup: resolved.refs.AuthorizerLogGroup } });
    expect(fn.Properties.Handler).toBeUndefined(); // an image's CMD names the handler
    expect(Number(fn.Properties.Timeout)).toBeLessThanOrEqual(10);
    expect(Number(fn.Properties.MemorySize)).toBeGreaterThanOrEqual(256);
    expect(resolved.resources.AuthorizerLogGroup.Properties.RetentionInDays).toBe(resolved.parameters.LogRetentionDays);
    const meta = template.Resources.AuthorizerFunction.Metadata!;
    expect(meta).toMatchObject({ Dockerfile: "Dockerfile", DockerContext: ".", DockerTag: expect.any(String) });
    const dockerfile = join(REPO_ROOT, String(meta.DockerContext), String(meta.Dockerfile));
    expect(existsSync(dockerfile)).toBe(true);
    // The stage SAM builds is a Lambda Node.js base image whose CMD names the handler.
    const stages = readFileSync(dockerfile, "utf8").split(/^(?=FROM\s)/m);
    const target = stages.find((st) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${String(meta.DockerBuildTarget)}\\s*$`, "im").test(st));
    expect(target).toMatch(/^FROM public\.ecr\.aws\/lambda\/nodejs:\d+/);
    expect(target).toMatch(/^CMD \["index\.handler"\]\s*$/m);
  });
});

describe("the API's authorizer agrees with the event reader and the cache settings", () => {
  const api = template.Resources.Api.Properties!;
  const auth = api.Auth as JsonObject;
  const authorizers = auth.Authorizers as JsonObject;
  const authorizer = authorizers[String(auth.DefaultAuthorizer)] as JsonObject;
  const identity = authorizer.Identity as JsonObject;
  const resolved = () => resolveTemplate(template);

  it("is the default authorizer: the image function's live alias as a REQUEST authorizer", () => {
    expect(authorizer).toMatchObject({ FunctionArn: { Ref: "AuthorizerFunction.Alias" }, FunctionPayloadType: "REQUEST" });
    expect(template.Resources.AuthorizerFunction.Properties).toMatchObject({ AutoPublishAlias: "live", AutoPublishAliasAllProperties: true });
  });

  it("takes the token from the one header the code reads it from", () => {
    expect(identity.Headers).toEqual(["Authorization"]);
    // A REQUEST event carrying only that header (as API Gateway sends it) gives the code its token.
    const headers = Object.fromEntries((identity.Headers as string[]).map((h) => [h, "Bearer a.b.c"]));
    const event = {
      type: "REQUEST",
      methodArn: "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/pets",
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      requestContext: { requestId: "r-1" },
    };
    expect(readEvent(event)).toMatchObject({ kind: "REQUEST", token: "a.b.c" });
    expect(readEvent({ ...event, headers: { "X-Token": "Bearer a.b.c" }, multiValueHeaders: {} }).token).toBeInstanceOf(Error);
  });

  it("offers the same function to an HTTP API as payload 2.0 simple responses, never cached", () => {
    const http = (template.Resources.HttpApi.Properties!.Auth as JsonObject) as { DefaultAuthorizer: string; Authorizers: Record<string, JsonObject> };
    const lambda = http.Authorizers[http.DefaultAuthorizer];
    expect(lambda).toMatchObject({
      FunctionArn: { Ref: "AuthorizerFunction.Alias" },
      AuthorizerPayloadFormatVersion: "2.0",
      EnableSimpleResponses: true,
      EnableFunctionDefaultPermissions: true, // HTTP APIs get no invoke permission otherwise
    });
    const httpIdentity = lambda.Identity as JsonObject;
    // A simple response answers one route only, and a cache keyed on the token would reuse it for
    // every route (SAM takes only a literal TTL here, so it cannot follow AuthorizerCacheTtl).
    expect(httpIdentity.ReauthorizeEvery).toBe(0);
    expect(httpIdentity.Headers).toEqual(["Authorization"]);
    const event = {
      version: "2.0",
      type: "REQUEST",
      routeArn: "arn:aws:execute-api:eu-west-1:123456789012:h6t7t8p9a0/prod/GET/pets",
      identitySource: ["Bearer a.b.c"],
      headers: Object.fromEntries((httpIdentity.Headers as string[]).map((h) => [h.toLowerCase(), "Bearer a.b.c"])),
      requestContext: { requestId: "r-2" },
    };
    expect(readEvent(event)).toMatchObject({ kind: "HTTP", token: "a.b.c" });
  });

  it("keys both caches on the token, method and path, so a cached answer only serves the route it was given for", () => {
    expect(identity.Context).toEqual(["httpMethod", "path"]);
    const http = template.Resources.HttpApi.Properties!.Auth as { DefaultAuthorizer: string; Authorizers: Record<string, JsonObject> };
    expect((http.Authorizers[http.DefaultAuthorizer].Identity as JsonObject).Context).toEqual(["httpMethod", "path"]);
  });

  it("caches answers for the TTL parameter: 300 s by default, 0 disables, at most 3600; never while bound tokens are checked", () => {
    expect(identity.ReauthorizeEvery).toEqual({ "Fn::If": ["ChecksBoundTokens", 0, { Ref: "AuthorizerCacheTtl" }] });
    expect(template.Parameters.AuthorizerCacheTtl).toMatchObject({ Type: "Number", Default: 300, MinValue: 0, MaxValue: 3600 });
    // Every mode but refuse checks a binding that a cached answer would skip (src/binding.ts).
    const checks = (mode: string) => resolveTemplate(template, { parameters: { BoundTokens: mode } }).conditions.ChecksBoundTokens;
    expect(BOUND_TOKEN_MODES.map((m) => [m, checks(m)])).toEqual([["refuse", false], ["accept", true], ["require", true]]);
    expect(template.Parameters.BoundTokens).toMatchObject({ AllowedValues: [...BOUND_TOKEN_MODES], Default: "refuse" });
  });

  it("has a sample route that echoes the authorizer context, and outputs to check a deploy", () => {
    const echo = resolved().resources.EchoFunction.Properties;
    expect(String(echo.InlineCode)).toContain("requestContext.authorizer");
    const events = echo.Events as Record<string, Json>;
    expect(Object.values(events)).toContainEqual({ Type: "Api", Properties: { RestApiId: "a1b2c3d4e5", Path: "/{proxy+}", Method: "ANY" } });
    expect(Object.values(events)).toContainEqual({ Type: "HttpApi", Properties: { ApiId: "h6t7t8p9a0", Path: "/{proxy+}", Method: "ANY" } });
    const { outputs } = resolved();
    expect(outputs.ApiUrl).toBe("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/");
    expect(outputs.HttpApiUrl).toBe("https://h6t7t8p9a0.execute-api.eu-west-1.amazonaws.com/prod/");
    expect(outputs.AuthorizerFunctionArn).toMatch(/^arn:aws:lambda:eu-west-1:123456789012:function:/);
    expect(outputs.AuthorizerAliasArn).toBe(`${String(outputs.AuthorizerFunctionArn)}:live`);
    expect(outputs.DashboardUrl).toBe("https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=pets-auth-authorizer");
  });

  it("builds the console links from the partition, not the commercial host", () => {
    const hosts = template.Mappings?.Partition;
    expect(Object.keys(hosts ?? {}).sort()).toEqual(["aws", "aws-cn", "aws-us-gov"]);
    const url = template.Outputs?.DashboardUrl.Value as { "Fn::Sub": [string, JsonObject] };
    expect(url["Fn::Sub"][0]).not.toContain("amazon.com");
    expect(url["Fn::Sub"][1].ConsoleHost).toEqual({ "Fn::FindInMap": ["Partition", { Ref: "AWS::Partition" }, "ConsoleHost"] });
    expect(JSON.stringify(template.Resources.Dashboard.Properties)).not.toContain("console.aws.amazon.com");
  });

  it("has a backend handler that really returns the context it was given", async () => {
    const code = String(resolved().resources.EchoFunction.Properties.InlineCode);
    const module = { exports: {} as { handler?: (e: unknown) => Promise<{ statusCode: number; body: string }> } };
    new Function("module", "exports", code)(module, module.exports);
    const context = { sub: "user-1", scope: "pets/read" };
    const rest = await module.exports.handler!({ httpMethod: "GET", path: "/pets", requestContext: { authorizer: context } });
    expect(rest.statusCode).toBe(200);
    expect(JSON.parse(rest.body)).toEqual({ route: "GET /pets", authorizer: context });
    const httpContext = { lambda: context };
    const http = await module.exports.handler!({
      version: "2.0",
      requestContext: { http: { method: "DELETE", path: "/prod/pets/7" }, authorizer: httpContext },
    });
    expect(JSON.parse(http.body)).toEqual({ route: "DELETE /prod/pets/7", authorizer: httpContext });
  });
});
