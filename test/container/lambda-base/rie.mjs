// STAND-IN of the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), for the stand-in Lambda base
// image only. The real emulator is a Go program that cannot be built on this project's machines; this one
// follows its documentation and source (cmd/aws-lambda-rie/handlers.go):
//   - Invoke API on 0.0.0.0:8080: POST /2015-03-31/functions/function/invocations, the body is the event;
//   - Runtime API on 127.0.0.1:9001 for the bootstrap it runs (argv[2]):
//       GET  /2018-06-01/runtime/invocation/next
//       POST /2018-06-01/runtime/invocation/{id}/response | /{id}/error
//       POST /2018-06-01/runtime/init/error
//   - the runtime is started (init) on the first invocation, with the emulator's environment defaults
//     (AWS_LAMBDA_FUNCTION_NAME=test_function, …_VERSION=$LATEST, …_MEMORY_SIZE=3008, log group and stream);
//   - one invocation at a time: a second one while one runs is refused with 400, as the real one does
//     ("Failed to reserve");
//   - START / END / REPORT lines on stdout; a function error comes back as the runtime posted it
//     (errorType, errorMessage, trace) with 200; AWS_LAMBDA_FUNCTION_TIMEOUT (default 300 s) bounds an
//     invocation, after which the answer is "Task timed out after N.00 seconds".
// Not emulated (as with the real one): X-Ray, extensions, concurrency, API Gateway.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
const RUNTIME = "/2018-06-01/runtime";
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

const env = (name, fallback) => (process.env[name] ? process.env[name] : fallback);
const log = (message) => process.stdout.write(`${new Date().toISOString()} [rie stand-in] ${message}\n`);

function readBody(req, limit = MAX_EVENT_BYTES) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) reject(Object.assign(new Error("payload too large"), { status: 413 }));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res, status, body, headers = {}) {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": payload.length, ...headers });
  res.end(payload);
}

/** One runtime process (the bootstrap) and the invocation it is working on. */
class Sandbox {
  constructor(bootstrap, runtimeApi) {
    this.bootstrap = bootstrap;
    this.runtimeApi = runtimeApi;
    this.timeoutSeconds = Number(env("AWS_LAMBDA_FUNCTION_TIMEOUT", "300"));
    this.functionName = env("AWS_LAMBDA_FUNCTION_NAME", "test_function");
    this.functionVersion = env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    this.memorySize = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008");
    this.process = undefined;
    this.initDone = false;
    this.pending = undefined; // the reserved invocation: { id, payload, headers, deadline, finish }
    this.waitingNext = undefined; // the runtime's parked GET /next
  }

  /** The environment the function sees: the emulator's defaults, overridden by the container's. */
  functionEnv() {
    return {
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/Functions",
      AWS_LAMBDA_LOG_STREAM_NAME: "$LATEST",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "3008",
      AWS_LAMBDA_FUNCTION_NAME: "test_function",
      ...process.env,
      AWS_LAMBDA_RUNTIME_API: this.runtimeApi,
    };
  }

  /** Starts the bootstrap; resolves with the init duration once it asks for its first invocation. */
  init() {
    const started = performance.now();
    log(`exec '${this.bootstrap}' (cwd=${process.cwd()}, handler=${process.env._HANDLER ?? ""})`);
    return new Promise((resolve, reject) => {
      const child = spawn(this.bootstrap, [], { env: this.functionEnv(), stdio: "inherit" });
      this.process = child;
      this.onReady = () => resolve(performance.now() - started);
      this.onInitError = (body) => reject(Object.assign(new Error("init error"), { body }));
      child.on("error", (err) => this.exited(child, `${err.message}`));
      child.on("exit", (code, signal) => this.exited(child, signal ? `signal: ${signal}` : `exit status ${code}`));
    });
  }

  /** The runtime process ended: fail whatever waits on it; the next invocation initialises again. */
  exited(child, how) {
    if (this.process !== child) return;
    this.process = undefined;
    this.initDone = false;
    this.waitingNext = undefined;
    log(`runtime exited (${how})`);
    const body = { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${this.pending?.id ?? "-"} Error: Runtime exited with error: ${how}` };
    this.onInitError?.(body);
    this.pending?.finish?.(502, body);
  }

  kill() {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    this.initDone = false;
    this.waitingNext = undefined;
    child.kill("SIGKILL");
  }

  /** Invoke API: one invocation, or 400 while another one holds the reservation. */
  async invoke(payload, headers) {
    if (this.pending) {
      log("Failed to reserve: ErrAlreadyReserved (one invocation at a time)");
      return { status: 400, body: Buffer.alloc(0) };
    }
    const id = randomUUID();
    let finish;
    const done = new Promise((resolve) => (finish = (status, body) => resolve({ status, body })));
    this.pending = { id, payload, headers, finish: undefined, deadline: 0 };
    try {
      let initDuration = "";
      if (!this.initDone) {
        try {
          initDuration = `Init Duration: ${(await this.init()).toFixed(2)} ms\t`;
          this.initDone = true;
        } catch (err) {
          this.kill();
          log(`init failed: ${JSON.stringify(err.body)}`);
          return { status: 502, body: Buffer.from(JSON.stringify(err.body)) };
        } finally {
          this.onReady = this.onInitError = undefined;
        }
      }
      const started = performance.now();
      this.pending.finish = finish;
      this.pending.deadline = Date.now() + this.timeoutSeconds * 1000;
      process.stdout.write(`START RequestId: ${id} Version: ${this.functionVersion}\n`);
      const timer = setTimeout(() => {
        this.kill();
        finish(200, `Task timed out after ${this.timeoutSeconds}.00 seconds`);
      }, this.timeoutSeconds * 1000);
      this.deliver();
      const result = await done;
      clearTimeout(timer);
      const duration = Math.min(performance.now() - started, this.timeoutSeconds * 1000);
      process.stdout.write(`END RequestId: ${id}\n`);
      process.stdout.write(
        `REPORT RequestId: ${id}\t${initDuration}Duration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\t` +
          `Memory Size: ${this.memorySize} MB\tMax Memory Used: ${this.memorySize} MB\t\n`,
      );
      return { status: result.status, body: Buffer.isBuffer(result.body) ? result.body : Buffer.from(typeof result.body === "string" ? result.body : JSON.stringify(result.body)) };
    } finally {
      this.pending = undefined;
    }
  }

  /** Hands the pending invocation to a parked GET /next, if both are there. */
  deliver() {
    const inv = this.pending;
    const res = this.waitingNext;
    if (!inv?.finish || inv.delivered || !res) return;
    this.waitingNext = undefined;
    inv.delivered = true;
    const headers = {
      "Lambda-Runtime-Aws-Request-Id": inv.id,
      "Lambda-Runtime-Deadline-Ms": String(inv.deadline),
      "Lambda-Runtime-Invoked-Function-Arn": `arn:aws:lambda:us-east-1:012345678912:function:${this.functionName}`,
    };
    if (inv.headers["x-amzn-trace-id"]) headers["Lambda-Runtime-Trace-Id"] = inv.headers["x-amzn-trace-id"];
    if (inv.headers["x-amz-client-context"]) headers["Lambda-Runtime-Client-Context"] = inv.headers["x-amz-client-context"];
    send(res, 200, inv.payload, headers);
  }

  /** Runtime API. */
  async runtimeRequest(req, res) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    if (req.method === "GET" && path === `${RUNTIME}/invocation/next`) {
      this.waitingNext = res;
      res.on("close", () => {
        if (this.waitingNext === res) this.waitingNext = undefined;
      });
      this.onReady?.();
      this.deliver();
      return;
    }
    if (req.method === "POST" && path === `${RUNTIME}/init/error`) {
      const body = await readBody(req);
      send(res, 202, { status: "OK" });
      this.onInitError?.(JSON.parse(body.toString("utf8") || "{}"));
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === "POST" && m) {
      const body = await readBody(req);
      const inv = this.pending;
      if (!inv || inv.id !== decodeURIComponent(m[1]) || !inv.delivered) {
        send(res, 400, { errorMessage: "Invalid request ID", errorType: "InvalidRequestID" });
        return;
      }
      send(res, 202, { status: "OK" });
      inv.finish(200, body);
      return;
    }
    send(res, 404, { errorMessage: `unknown Runtime API path ${req.method} ${path}`, errorType: "InvalidPath" });
  }
}

function main() {
  const bootstrap = process.argv[2];
  if (!bootstrap) {
    process.stderr.write("usage: aws-lambda-rie BOOTSTRAP\n");
    process.exit(2);
  }
  const runtimeApi = "127.0.0.1:9001";
  const sandbox = new Sandbox(bootstrap, runtimeApi);

  const runtimeServer = createServer((req, res) => {
    sandbox.runtimeRequest(req, res).catch((err) => send(res, err.status ?? 500, { errorMessage: err.message, errorType: "ServerError" }));
  });
  const invokeServer = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (req.method !== "POST" || path !== INVOKE_PATH) {
      send(res, 404, "404 page not found\n", { "Content-Type": "text/plain; charset=utf-8" });
      return;
    }
    readBody(req)
      .then((payload) => sandbox.invoke(payload, req.headers))
      .then(({ status, body }) => send(res, status, body))
      .catch((err) => send(res, err.status ?? 500, { errorMessage: err.message, errorType: "ServerError" }));
  });
  runtimeServer.listen(9001, "127.0.0.1", () => {
    invokeServer.listen(8080, "0.0.0.0", () => log("listening on 0.0.0.0:8080 (Invoke API); Runtime API on 127.0.0.1:9001"));
  });
  const stop = (signal) => {
    log(`${signal}: stopping`);
    sandbox.kill();
    invokeServer.close();
    runtimeServer.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main();
