import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listen, origin, readBody } from "./http-util";

/** The Lambda Invoke API path the Runtime Interface Emulator serves ("function" is its function name). */
export const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
const INVOKE_ROUTE = /^\/2015-03-31\/functions\/[^/]+\/invocations$/;

export type LogMode = "inherit" | "ignore";

export interface InvokeServerOptions {
  /** The child runtime script (src/local/lambda-runtime.mjs). */
  readonly runtimeScript: string;
  /** Directory holding the handler module (the Lambda task root: dist/ locally, /var/task in the image). */
  readonly taskRoot: string;
  /** Handler string, as the Dockerfile's CMD names it. */
  readonly handler?: string;
  /** The function's environment (the authorizer's config, NODE_EXTRA_CA_CERTS…); nothing else is inherited but PATH. */
  readonly env: Readonly<Record<string, string>>;
  readonly host?: string;
  readonly port?: number;
  /** Per-invocation timeout in seconds, like AWS_LAMBDA_FUNCTION_TIMEOUT (default 30). */
  readonly timeoutSeconds?: number;
  /** Where the function's stdout/stderr (its logs) go. Default "ignore". */
  readonly logs?: LogMode;
  /** Receives each line the function writes (stdout and stderr), instead of `logs`. */
  readonly onLog?: (line: string) => void;
  /** Print the RIE's START / END / REPORT lines to stdout. */
  readonly reportLines?: boolean;
}

export interface InvokeServer {
  /** `http://host:port/2015-03-31/functions/function/invocations` */
  readonly url: string;
  /** Handler invocations so far (whoever sent them: the gateway or a curl). */
  invocations(): number;
  close(): Promise<void>;
}

interface Pending {
  readonly id: string;
  readonly payload: string;
  readonly traceId?: string;
  resolve(answer: { body: string; error: boolean }): void;
}

type ChildMessage =
  | { type: "ready"; file: string }
  | { type: "init-error"; body: string }
  | { type: "result"; id: string; ok: boolean; body: string };

/** The RIE's answer when the runtime dies mid-invocation. */
const exitBody = (requestId: string, detail: string): string =>
  JSON.stringify({
    errorType: "Runtime.ExitError",
    errorMessage: `RequestId: ${requestId} Error: Runtime exited ${detail}`,
  });

interface Answer {
  readonly body: string;
  readonly error: boolean;
}

/**
 * One Lambda execution environment: a child process that loads the built bundle once (module-scope
 * init with the given env) and then runs invocations sent over IPC. It is started on demand and
 * forgotten when it dies or is discarded, so the next start is a new cold start.
 */
class FunctionProcess {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private initReported = false;

  constructor(
    private readonly options: InvokeServerOptions,
    /** A result the child sent for invocation `id`. */
    private readonly onResult: (id: string, answer: Answer) => void,
    /** The child exited (crash, kill); `detail` says how. */
    private readonly onExit: (proc: ChildProcess, detail: string) => void,
  ) {}

  /** The running child, started (and initialised) first if there is none. */
  start(): Promise<ChildProcess> {
    if (!this.ready) {
      this.ready = this.spawn();
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  /** Forgets `proc` (when it is the current child) so that the next start spawns a new one. */
  discard(proc: ChildProcess | undefined): void {
    if (proc && this.child === proc) {
      this.child = undefined;
      this.ready = undefined;
    }
  }

  kill(): void {
    this.child?.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    const proc = this.child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  }

  private spawn(): Promise<ChildProcess> {
    const options = this.options;
    return new Promise((resolve, reject) => {
      const stdio = options.onLog ? "pipe" : options.logs === "inherit" ? "inherit" : "ignore";
      const started = performance.now();
      const proc = fork(options.runtimeScript, [], {
        cwd: options.taskRoot,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          LAMBDA_TASK_ROOT: options.taskRoot,
          _HANDLER: options.handler ?? "index.handler",
          ...options.env,
        },
        stdio: [stdio, stdio, stdio, "ipc"],
        serialization: "json",
      });
      this.child = proc;
      if (options.onLog) forwardLines(proc, options.onLog);
      const onStartup = (message: ChildMessage) => {
        if (message.type === "ready") {
          proc.off("message", onStartup);
          proc.on("message", (m: ChildMessage) => {
            if (m.type === "result") this.onResult(m.id, { body: m.body, error: !m.ok });
          });
          this.reportInit(message.file, performance.now() - started);
          resolve(proc);
        } else if (message.type === "init-error") {
          proc.kill();
          reject(new InitError(message.body));
        }
      };
      proc.on("message", onStartup);
      proc.once("exit", (code, signal) => {
        this.discard(proc);
        const how = `with ${signal ?? `exit status ${code}`}`;
        reject(new InitError(exitBody("init", `${how} during init`)));
        this.onExit(proc, how);
      });
    });
  }

  private reportInit(file: string, ms: number): void {
    if (!this.options.reportLines || this.initReported) return;
    this.initReported = true;
    const functionName = this.options.env.AWS_LAMBDA_FUNCTION_NAME ?? "test_function";
    process.stdout.write(`INIT ${functionName}: ${file} loaded in ${ms.toFixed(2)} ms\n`);
  }
}

/** Calls `onLog` with each line the child writes to stdout or stderr. */
function forwardLines(proc: ChildProcess, onLog: (line: string) => void): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLog(line);
    });
  }
}

/**
 * Invocations in arrival order, one at a time (a single execution environment), each bounded by
 * the function timeout: a timed-out or crashed invocation is answered and its process discarded.
 */
class InvocationQueue {
  private readonly waiting: Pending[] = [];
  private current: { pending: Pending; timer: NodeJS.Timeout; started: number; proc?: ChildProcess } | undefined;
  private closed = false;
  private readonly reportLines: boolean;
  /** Invocations started so far. */
  count = 0;
  readonly fn: FunctionProcess;

  constructor(
    options: InvokeServerOptions,
    private readonly timeoutMs: number,
  ) {
    this.reportLines = options.reportLines === true;
    this.fn = new FunctionProcess(
      options,
      (id, answer) => this.finish(id, answer),
      (proc, how) => {
        if (this.current?.proc === proc) this.finish(this.current.pending.id, { body: exitBody(this.current.pending.id, how), error: true });
      },
    );
  }

  invoke(payload: string, traceId?: string): Promise<Answer> {
    return new Promise((resolve) => {
      this.waiting.push({ id: randomUUID(), payload, traceId, resolve });
      this.pump();
    });
  }

  /** Answers everything still waiting, and starts nothing more. */
  close(): void {
    this.closed = true;
    for (const pending of this.waiting.splice(0)) pending.resolve({ body: exitBody(pending.id, "(server closed)"), error: true });
  }

  private finish(id: string, answer: Answer): void {
    if (!this.current || this.current.pending.id !== id) return;
    const { pending, timer, started } = this.current;
    clearTimeout(timer);
    this.current = undefined;
    if (this.reportLines) {
      const ms = performance.now() - started;
      process.stdout.write(`END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${Math.ceil(ms)} ms\n`);
    }
    pending.resolve(answer);
    setImmediate(() => this.pump());
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const pending = this.waiting.shift();
    if (!pending) return;
    this.count += 1;
    const timer = setTimeout(() => this.timeOut(pending), this.timeoutMs);
    this.current = { pending, timer, started: performance.now() };
    if (this.reportLines) process.stdout.write(`START RequestId: ${pending.id} Version: $LATEST\n`);
    this.fn.start().then(
      (proc) => this.send(pending, proc),
      (err: unknown) => this.finish(pending.id, { body: err instanceof InitError ? err.body : exitBody(pending.id, String(err)), error: true }),
    );
  }

  private send(pending: Pending, proc: ChildProcess): void {
    if (this.current?.pending !== pending) return; // timed out while the function was starting
    this.current.proc = proc;
    const message = { type: "invoke", id: pending.id, requestId: pending.id, payload: pending.payload, traceId: pending.traceId, deadlineMs: Date.now() + this.timeoutMs };
    proc.send(message, (err) => {
      if (err) this.finish(pending.id, { body: exitBody(pending.id, `(${err.message})`), error: true });
    });
  }

  private timeOut(pending: Pending): void {
    const proc = this.current?.proc;
    this.fn.discard(proc);
    this.finish(pending.id, { body: `Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`, error: true });
    proc?.kill("SIGKILL");
  }
}

/**
 * Behaves like the Lambda Runtime Interface Emulator for one function: `POST` the raw event to
 * INVOKE_PATH, get the handler's JSON result (200), or for a thrown error the runtime's error
 * document `{"errorType","errorMessage","trace"}` — also with 200, as the RIE answers.
 *
 * The handler runs in ONE child process (FunctionProcess), so it behaves like one warm Lambda
 * container. Invocations are serialized (InvocationQueue): one at a time, in arrival order, like a
 * single execution environment. (The real RIE answers a concurrent second request with 400 instead
 * of queueing it; queueing keeps a local gateway under load usable.) A crash or timeout kills the
 * child; the next invocation starts a new one (a new cold start).
 */
export async function startInvokeServer(options: InvokeServerOptions): Promise<InvokeServer> {
  const queue = new InvocationQueue(options, (options.timeoutSeconds ?? 30) * 1000);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || !INVOKE_ROUTE.test(path)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
      return;
    }
    const payload = await readBody(req);
    const traceHeader = req.headers["x-amzn-trace-id"];
    const answer = await queue.invoke(payload, typeof traceHeader === "string" ? traceHeader : undefined);
    // The RIE answers function errors with 200 and the error document as the body.
    res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // Start (and init) the function before accepting requests, so the first curl is not also the cold start's.
  await queue.fn.start().catch(() => undefined);
  const host = options.host ?? "127.0.0.1";
  let port: number;
  try {
    port = await listen(server, host, options.port ?? 0);
  } catch (err) {
    queue.close();
    queue.fn.kill();
    throw err;
  }
  return {
    url: `${origin("http", host, port)}${INVOKE_PATH}`,
    invocations: () => queue.count,
    close: async () => {
      queue.close();
      await closeServer(server);
      await queue.fn.stop();
    },
  };
}

class InitError extends Error {
  constructor(readonly body: string) {
    super("function init failed");
    this.name = "InitError";
  }
}
