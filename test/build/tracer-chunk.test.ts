/**
 * scripts/build.mjs puts the Tracer in its own file, dist/tracer.js, which dist/index.js requires only
 * when tracing is wanted. This runs the shipped bundle in a child process, in Lambda mode with a local
 * X-Ray daemon on 127.0.0.1, and checks that tracing still works, and that with tracing off the
 * Tracer module is never loaded.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const DIST = join(__dirname, "..", "..", "dist", "index.js");
const DRIVER = join(__dirname, "support", "tracing-driver.cjs");

interface Segment {
  name: string;
  annotations?: Record<string, unknown>;
  http?: { request?: { url?: string } };
}
interface Report {
  outcome: string;
  tracerLoaded: boolean;
  segments: Segment[];
}

function run(env: Record<string, string>): Report {
  const child = spawnSync(process.execPath, [DRIVER, DIST], {
    env: {
      PATH: process.env.PATH ?? "",
      USER_POOL_ID: "eu-west-1_TestPool1",
      CLIENT_ID: "testclient123",
      JWKS_URI: "https://127.0.0.1:1/.well-known/jwks.json",
      AWS_LAMBDA_FUNCTION_NAME: "f",
      ...env,
    },
    encoding: "utf8",
    timeout: 20_000,
  });
  const line = child.stderr.split("\n").find((l) => l.startsWith('{"outcome"'));
  if (child.status !== 0 || !line) throw new Error(`driver failed (${child.status}): ${child.stderr}`);
  return JSON.parse(line) as Report;
}

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does)`);
});

it("traces in Lambda mode: a ## handler subsegment with the decision annotation and the key-set fetch", () => {
  const report = run({
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    LAMBDA_TASK_ROOT: "/tmp",
    _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  });
  expect(report.outcome).toBe("threw Unauthorized");
  expect(report.tracerLoaded).toBe(true);
  const handler = report.segments.find((s) => s.name === "## handler");
  expect(handler?.annotations).toMatchObject({ decision: "Invalid", ColdStart: expect.any(Boolean), Service: "jwt-authorizer" });
  expect(report.segments.some((s) => s.http?.request?.url === "https://127.0.0.1/.well-known/jwks.json")).toBe(true);
});

it("never loads the Tracer where tracing is off", () => {
  const report = run({ POWERTOOLS_TRACE_ENABLED: "false", AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", LAMBDA_TASK_ROOT: "/tmp" });
  expect(report.outcome).toBe("threw Unauthorized");
  expect(report.tracerLoaded).toBe(false);
  expect(report.segments).toEqual([]);
});
