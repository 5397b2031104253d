/**
 * Shared by the benchmark's processes: statistics, the authorizer environment, Lambda-like
 * contexts, sample events and the small protocol the child processes answer on.
 */
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { projectRoot } from "../src/local/project";
import { lambdaContext as testContext } from "../test/support/capture";

/** Found by walking up (this file runs from bench/ under ts and bundled under bench/results/build/). */
export const REPO_ROOT = projectRoot(__dirname);
export const RESULTS_DIR = join(REPO_ROOT, "bench", "results");
export const BUILD_DIR = join(RESULTS_DIR, "build");
export const EXAMPLE_RULES = join(REPO_ROOT, "access-rules.example.json");

export { stat, type Stat } from "../test/support/stats";

/** The sample events and the Lambda context come from the test kit (one event builder, one context). */
export { eventTemplate, fillEvent as eventFor } from "../test/support/events";

/** A Lambda-like context, as the runtime passes one per invocation. */
export function lambdaContext(requestId: string): Context {
  return testContext({
    callbackWaitsForEmptyEventLoop: true,
    functionName: "jwt-authorizer-bench",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jwt-authorizer-bench",
    awsRequestId: requestId,
    logGroupName: "/aws/lambda/jwt-authorizer-bench",
    logStreamName: "bench",
    getRemainingTimeInMillis: () => 10_000,
  });
}

/**
 * The environment the shipped handler runs with in the bench: Cognito mode for the test pool,
 * keys from the bench's JWKS server, the example access rules, tracing off (as outside Lambda or
 * with POWERTOOLS_TRACE_ENABLED=false). Built from scratch so the caller's shell cannot change it.
 */
export function authorizerEnv(jwksUri: string, caFile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    TZ: "UTC",
    NODE_EXTRA_CA_CERTS: caFile,
    USER_POOL_ID: "eu-west-1_TestPool1",
    CLIENT_ID: "testclient123",
    JWKS_URI: jwksUri,
    ACCESS_RULES_FILE: EXAMPLE_RULES,
    POWERTOOLS_SERVICE_NAME: "jwt-authorizer",
    POWERTOOLS_METRICS_NAMESPACE: "JwtAuthorizer",
    POWERTOOLS_TRACE_ENABLED: "false",
    AWS_REGION: "eu-west-1",
    AWS_LAMBDA_FUNCTION_NAME: "jwt-authorizer-bench",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    // As Lambda sets it for on-demand environments: Powertools counts the first invocation as a cold start.
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    ...extra,
  };
}

/** A handler as both bundles export it (the kit's loader, test/support/bundle.ts, loads them). */
export type { Handler } from "../test/support/bundle";

/** What a REST answer (or throw) means to API Gateway, for checking that every scenario decided right. */
export function verdictOf(result: { value?: unknown; error?: unknown }): "Allow" | "Deny" | "Unauthorized" | "Error" | "Other" {
  if (result.error !== undefined) {
    const message = (result.error as Error)?.message;
    return message === "Unauthorized" ? "Unauthorized" : "Error";
  }
  const statements = (result.value as { policyDocument?: { Statement?: { Effect: string }[] } })?.policyDocument?.Statement;
  if (!Array.isArray(statements)) return "Other";
  if (statements.some((s) => s.Effect === "Deny")) return "Deny";
  return statements.some((s) => s.Effect === "Allow") ? "Allow" : "Other";
}

/**
 * Makes this process's stdout/stderr pipes blocking, as Node documents pipes on Linux to be
 * ("synchronous"): every log line then pays its write to the pipe inside the decision, as in Lambda,
 * rather than queueing in memory when the reader lags (which would flatter whoever logs most).
 */
export function blockingStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle?.setBlocking?.(true);
  }
}
