/**
 * scripts/build.mjs puts the Tracer in its own file, dist/tracer.js, which dist/index.js requires only
 * when tracing is wanted. This runs the shipped bundle in a child process (the kit's one bundle runner),
 * in Lambda mode with a local X-Ray daemon on 127.0.0.1, and checks that tracing still works, and that
 * with tracing off the Tracer module is never loaded.
 */
import { startLambda, startTraceSink } from "../support/lambda-process";

interface Segment {
  name: string;
  annotations?: Record<string, unknown>;
  http?: { request?: { url?: string } };
}

/** The shipped bundle answers one TOKEN event with `env`; what it answered, whether it loaded the Tracer, and what the daemon got. */
async function run(env: Record<string, string>): Promise<{ outcome: string; tracerLoaded: boolean; segments: Segment[] }> {
  const sink = await startTraceSink();
  const lambda = await startLambda({
    USER_POOL_ID: "eu-west-1_TestPool1",
    CLIENT_ID: "testclient123",
    JWKS_URI: "https://127.0.0.1:1/.well-known/jwks.json",
    AWS_LAMBDA_FUNCTION_NAME: "f",
    AWS_XRAY_DAEMON_ADDRESS: sink.address,
    ...env,
  });
  try {
    const answer = await lambda.invoke({ type: "TOKEN", authorizationToken: "Bearer not.a.jwt", methodArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets" });
    const outcome = answer.error ? `threw ${answer.error.message}` : "answered";
    const tracerLoaded = await lambda.tracerLoaded();
    // Segments are sent over UDP as the handler finishes: wait for them (bounded).
    for (let waited = 0; tracerLoaded && waited < 3000 && !sink.documents().some((d) => d.name === "## handler"); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const segments = sink.documents().flatMap((d) => [d, ...((d.subsegments as Segment[] | undefined) ?? [])]) as unknown as Segment[];
    return { outcome, tracerLoaded, segments };
  } finally {
    await lambda.close();
    await sink.close();
  }
}

it("traces in Lambda mode: a ## handler subsegment with the decision annotation and the key-set fetch", async () => {
  const report = await run({
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    LAMBDA_TASK_ROOT: "/tmp",
    // The trace of the init phase, where the key set is prefetched (each invocation gets its own).
    _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  });
  expect(report.outcome).toBe("threw Unauthorized");
  expect(report.tracerLoaded).toBe(true);
  const handler = report.segments.find((s) => s.name === "## handler");
  expect(handler?.annotations).toMatchObject({ decision: "Invalid", ColdStart: expect.any(Boolean), Service: "jwt-authorizer" });
  expect(report.segments.some((s) => s.http?.request?.url === "https://127.0.0.1/.well-known/jwks.json")).toBe(true);
});

it("never loads the Tracer where tracing is off", async () => {
  const report = await run({ POWERTOOLS_TRACE_ENABLED: "false", AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", LAMBDA_TASK_ROOT: "/tmp" });
  expect(report.outcome).toBe("threw Unauthorized");
  expect(report.tracerLoaded).toBe(false);
  expect(report.segments).toEqual([]);
});
