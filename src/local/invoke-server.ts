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

/**
 * Behaves like the Lambda Runtime Interface Emulator for one function: `POST` the raw event to
 * INVOKE_PATH, get the handler's JSON result (200), or for a thrown error the runtime's error
 * document `{"errorType","errorMessage","trace"}` — also with 200, as the RIE answers.
 *
 * The handler runs in ONE child process that loads the built bundle once (module-scope init with the
 * given env), so it behaves like one warm Lambda container. Invocations are serialized: one at a
 * time, in arrival order, like a single execution environment. (The real RIE answers a concurrent
 * second request with 400 instead of queueing it; queueing keeps a local gateway under load usable.)
 * A crash or timeout kills the child; the next invocation starts a new one (a new cold start).
 */
export async function startInvokeServer(options: InvokeServerOptions): Promise<InvokeServer> {
  const timeoutMs = (options.timeoutSeconds ?? 30) * 1000;
  const handlerString = options.handler ?? "index.handler";
  const functionName = options.env.AWS_LAMBDA_FUNCTION_NAME ?? "test_function";
  const queue: Pending[] = [];
  let invocations = 0;
  let busy = false;
  let closed = false;
  let child: ChildProcess | undefined;
  let ready: Promise<ChildProcess> | undefined;
  let initReported = false;
  let current: { pending: Pending; timer: NodeJS.Timeout; started: number; proc?: ChildProcess } | undefined;

  const spawnChild = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const stdio = options.onLog ? "pipe" : options.logs === "inherit" ? "inherit" : "ignore";
      const started = performance.now();
      const proc = fork(options.runtimeScript, [], {
        cwd: options.taskRoot,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          LAMBDA_TASK_ROOT: options.taskRoot,
          _HANDLER: handlerString,
          ...options.env,
        },
        stdio: [stdio, stdio, stdio, "ipc"],
        serialization: "json",
      });
      child = proc;
      if (options.onLog) {
        const onLog = options.onLog;
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
      const onStartup = (message: ChildMessage) => {
        if (message.type === "ready") {
          proc.off("message", onStartup);
          proc.on("message", onResult);
          if (options.reportLines && !initReported) {
            initReported = true;
            process.stdout.write(`INIT ${functionName}: ${message.file} loaded in ${(performance.now() - started).toFixed(2)} ms\n`);
          }
          resolve(proc);
        } else if (message.type === "init-error") {
          proc.kill();
          reject(new InitError(message.body));
        }
      };
      proc.on("message", onStartup);
      proc.once("exit", (code, signal) => {
        if (child === proc) {
          child = undefined;
          ready = undefined;
        }
        reject(new InitError(exitBody("init", `with ${signal ?? `exit status ${code}`} during init`)));
        if (current?.proc === proc) {
          finish(current.pending.id, { body: exitBody(current.pending.id, `with ${signal ?? `exit status ${code}`}`), error: true });
        }
      });
    });

  const childReady = (): Promise<ChildProcess> => {
    if (!ready) {
      ready = spawnChild();
      ready.catch(() => {
        ready = undefined;
      });
    }
    return ready;
  };

  function finish(id: string, answer: { body: string; error: boolean }): void {
    if (!current || current.pending.id !== id) return;
    const { pending, timer, started } = current;
    clearTimeout(timer);
    current = undefined;
    busy = false;
    if (options.reportLines) {
      const ms = performance.now() - started;
      process.stdout.write(
        `END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${Math.ceil(ms)} ms\n`,
      );
    }
    pending.resolve(answer);
    setImmediate(pump);
  }

  function onResult(message: ChildMessage): void {
    if (message.type === "result") finish(message.id, { body: message.body, error: !message.ok });
  }

  function pump(): void {
    if (busy || closed) return;
    const pending = queue.shift();
    if (!pending) return;
    busy = true;
    invocations += 1;
    const started = performance.now();
    const timer = setTimeout(() => {
      const proc = current?.proc;
      if (proc && child === proc) {
        child = undefined;
        ready = undefined;
      }
      finish(pending.id, { body: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, error: true });
      proc?.kill("SIGKILL");
    }, timeoutMs);
    current = { pending, timer, started };
    if (options.reportLines) process.stdout.write(`START RequestId: ${pending.id} Version: $LATEST\n`);
    childReady().then(
      (proc) => {
        if (current?.pending !== pending) return; // timed out while the function was starting
        current.proc = proc;
        proc.send({
          type: "invoke",
          id: pending.id,
          requestId: pending.id,
          payload: pending.payload,
          traceId: pending.traceId,
          deadlineMs: Date.now() + timeoutMs,
        }, (err) => {
          if (err) finish(pending.id, { body: exitBody(pending.id, `(${err.message})`), error: true });
        });
      },
      (err: unknown) => finish(pending.id, { body: err instanceof InitError ? err.body : exitBody(pending.id, String(err)), error: true }),
    );
  }

  const invoke = (payload: string, traceId?: string) =>
    new Promise<{ body: string; error: boolean }>((resolve) => {
      queue.push({ id: randomUUID(), payload, traceId, resolve });
      pump();
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || !INVOKE_ROUTE.test(path)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
      return;
    }
    const payload = await readBody(req);
    const traceHeader = req.headers["x-amzn-trace-id"];
    const answer = await invoke(payload, typeof traceHeader === "string" ? traceHeader : undefined);
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
  await childReady().catch(() => undefined);
  const host = options.host ?? "127.0.0.1";
  let port: number;
  try {
    port = await listen(server, host, options.port ?? 0);
  } catch (err) {
    closed = true;
    child?.kill("SIGKILL");
    throw err;
  }
  return {
    url: `${origin("http", host, port)}${INVOKE_PATH}`,
    invocations: () => invocations,
    close: async () => {
      closed = true;
      for (const pending of queue.splice(0)) pending.resolve({ body: exitBody(pending.id, "(server closed)"), error: true });
      await closeServer(server);
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((resolve) => {
          proc.once("exit", () => resolve());
          proc.kill("SIGTERM");
        });
      }
    },
  };
}

class InitError extends Error {
  constructor(readonly body: string) {
    super("function init failed");
    this.name = "InitError";
  }
}
