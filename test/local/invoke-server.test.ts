/**
 * The invoke server's RIE behaviour with small handlers written for the test: the Lambda context,
 * one invocation at a time, module init once, timeouts and crashes answered and recovered from.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InvokeServer, startInvokeServer } from "../../src/local/invoke-server";
import { projectPaths } from "../../src/local/project";
import { http } from "./http";

const HANDLERS = `
let inits = (globalThis.__inits = (globalThis.__inits ?? 0) + 1);
let inFlight = 0;
let maxInFlight = 0;
exports.echo = async (event, context) => ({
  event,
  inits,
  env: process.env.ONLY_THIS,
  leaked: process.env.HOME ?? null,
  functionName: context.functionName,
  awsRequestId: context.awsRequestId,
  remaining: context.getRemainingTimeInMillis(),
});
exports.overlap = async () => {
  inFlight += 1;
  maxInFlight = Math.max(maxInFlight, inFlight);
  await new Promise((r) => setTimeout(r, 20));
  inFlight -= 1;
  return { maxInFlight };
};
exports.slow = async (event) => {
  if (event.hang) await new Promise((r) => setTimeout(r, 10_000));
  return { pid: process.pid };
};
exports.crash = async (event) => {
  if (event.crash) process.exit(3);
  return { pid: process.pid };
};
exports.throwsString = async () => { throw "plain string"; };
`;

let taskRoot: string;
beforeAll(() => {
  taskRoot = mkdtempSync(join(tmpdir(), "authz-task-"));
  writeFileSync(join(taskRoot, "app.js"), HANDLERS);
});
afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

async function withServer(handler: string, run: (s: InvokeServer) => Promise<void>, timeoutSeconds = 30): Promise<void> {
  const server = await startInvokeServer({
    runtimeScript: projectPaths().runtimeScript,
    taskRoot,
    handler,
    env: { ONLY_THIS: "yes", AWS_LAMBDA_FUNCTION_NAME: "fn-under-test" },
    timeoutSeconds,
  });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

const invoke = async (s: InvokeServer, body: unknown) =>
  (await http(s.url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) })).json<Record<string, unknown>>();

it("passes the raw event, a Lambda context and only the function's environment", async () => {
  await withServer("app.echo", async (s) => {
    const first = await invoke(s, { type: "TOKEN", n: 1 });
    const second = await invoke(s, { n: 2 });
    expect(first).toMatchObject({ event: { type: "TOKEN", n: 1 }, inits: 1, env: "yes", leaked: null, functionName: "fn-under-test" });
    expect(first.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.awsRequestId).not.toBe(first.awsRequestId);
    expect(Number(first.remaining)).toBeGreaterThan(25_000);
    expect(second.inits).toBe(1); // module init ran once: a warm container
    expect(s.invocations()).toBe(2);
  });
});

it("runs one invocation at a time, even when requests arrive together", async () => {
  await withServer("app.overlap", async (s) => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => invoke(s, {})));
    expect(Math.max(...answers.map((a) => Number(a.maxInFlight)))).toBe(1);
  });
});

it("answers a timeout like the RIE and starts a new process for the next invocation", async () => {
  await withServer(
    "app.slow",
    async (s) => {
      const before = (await invoke(s, {})).pid;
      const res = await http(s.url, { method: "POST", body: JSON.stringify({ hang: true }) });
      expect(res.status).toBe(200);
      expect(res.text).toBe("Task timed out after 0.50 seconds");
      const after = (await invoke(s, {})).pid;
      expect(typeof after).toBe("number");
      expect(after).not.toBe(before); // a new process, i.e. a new cold start
    },
    0.5,
  );
});

it("answers a crashed runtime with Runtime.ExitError and recovers", async () => {
  await withServer("app.crash", async (s) => {
    const before = (await invoke(s, {})).pid;
    const crashed = await invoke(s, { crash: true });
    expect(crashed.errorType).toBe("Runtime.ExitError");
    expect(String(crashed.errorMessage)).toMatch(/exit status 3/);
    const after = (await invoke(s, {})).pid;
    expect(typeof after).toBe("number");
    expect(after).not.toBe(before);
  });
});

it("reports a non-Error throw and an unknown handler in the runtime's error shape", async () => {
  await withServer("app.throwsString", async (s) => {
    expect(await invoke(s, {})).toMatchObject({ errorType: "Error", errorMessage: "plain string" });
  });
  await withServer("missing.handler", async (s) => {
    expect(await invoke(s, {})).toMatchObject({ errorType: "Runtime.ImportModuleError" });
  });
});
