/** The one Logger, Metrics and Tracer of a container, and when tracing is wanted at all. */
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME } from "../src/config";
import { createObservability, tracingWanted } from "../src/observability";
import { captureStdout, emittedMetrics } from "./support/capture";

describe("tracingWanted (the Tracer's own rule, so its module is never loaded where it would be off)", () => {
  it.each<[string, Record<string, string>, boolean]>([
    ["in Lambda", { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" }, true],
    ["outside Lambda", {}, false],
    ["under SAM local", { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", AWS_SAM_LOCAL: "true" }, false],
    ["turned off", { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: "FALSE" }, false],
    ["under Amplify's mock", { AWS_EXECUTION_ENV: "AWS_Lambda_amplify-mock" }, false],
  ])("%s → %p", (_name, env, expected) => {
    expect(tracingWanted(env)).toBe(expected);
  });
});

describe("createObservability", () => {
  it("creates no Tracer where tracing is off", () => {
    expect(createObservability({}).tracer).toBeUndefined();
  });

  it("names the service and the metrics namespace from the environment, else the defaults", async () => {
    const named = createObservability({ POWERTOOLS_SERVICE_NAME: "orders-auth", POWERTOOLS_METRICS_NAMESPACE: "Acme/Auth" });
    const defaults = createObservability({ POWERTOOLS_SERVICE_NAME: "  " });
    const { records } = await captureStdout(async () => {
      for (const { logger, metrics } of [named, defaults]) {
        logger.info("hello");
        metrics.addMetric("Allow", "Count", 1);
        metrics.publishStoredMetrics();
      }
    });
    expect(records.filter((r) => r.message === "hello").map((r) => r.service)).toEqual(["orders-auth", DEFAULT_SERVICE_NAME]);
    const namespaces = records.filter((r) => r._aws).map((r) => (r._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0].Namespace);
    expect(namespaces).toEqual(["Acme/Auth", DEFAULT_METRICS_NAMESPACE]);
    expect(emittedMetrics(records).Allow.value).toBe(2);
  });
});
