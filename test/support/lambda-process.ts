import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DIST_BUNDLE, missingBundleMessage } from "./bundle";
import { lambdaContext } from "./capture";
import { track } from "./cleanup";

export interface LambdaResult {
  readonly result?: unknown;
  readonly error?: { message: string; type: string; keys: string[] };
}

/** The child's resident set in bytes: now, the peak since it started, and the highest sampled since the previous probe. */
export interface MemoryProbe {
  readonly rss: number;
  readonly maxRss: number;
  readonly sampledMax: number;
}

export interface LambdaProcess {
  invoke(event: unknown): Promise<LambdaResult>;
  /** Reads the child's memory between invocations. */
  memory(): Promise<MemoryProbe>;
  /** Whether the bundle has loaded the Tracer (aws-xray-sdk-core) so far. */
  tracerLoaded(): Promise<boolean>;
  /** Every stdout/stderr line so far. */
  output(): string[];
  close(): Promise<void>;
}

/** A fresh X-Ray trace header, as the Lambda runtime sets it per invocation. */
export function traceHeader(): string {
  const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
  return `Root=${root};Parent=${randomBytes(8).toString("hex")};Sampled=1`;
}

/** Starts dist/index.js under lambda-driver.cjs with exactly `env` (plus PATH). */
export async function startLambda(env: Record<string, string>): Promise<LambdaProcess> {
  if (!existsSync(DIST_BUNDLE)) throw new Error(missingBundleMessage(DIST_BUNDLE));
  const child: ChildProcess = fork(join(__dirname, "lambda-driver.cjs"), [DIST_BUNDLE], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  const pending = new Map<number, (r: LambdaResult) => void>();
  let nextId = 0;
  let invocation = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`lambda process exited with ${code}: ${chunks.join("")}`)));
    child.on("message", (msg: { ready?: boolean; id?: number } & LambdaResult) => {
      if (msg.ready) return resolve();
      const done = pending.get(msg.id ?? -1);
      pending.delete(msg.id ?? -1);
      done?.(msg);
    });
  });
  const ask = (message: Record<string, unknown>) => {
    const id = nextId++;
    return new Promise<LambdaResult>((resolve) => {
      pending.set(id, resolve);
      child.send({ id, ...message });
    });
  };
  return track({
    invoke: (event) => {
      invocation += 1;
      const context = lambdaContext({
        functionName: env.AWS_LAMBDA_FUNCTION_NAME || "jwt-authorizer",
        invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jwt-authorizer",
        awsRequestId: `security-request-${invocation}`,
        logGroupName: "/aws/lambda/jwt-authorizer",
        logStreamName: "local",
      });
      return ask({ event, traceId: traceHeader(), context });
    },
    memory: async () => (await ask({ probe: "memory" })).result as MemoryProbe,
    tracerLoaded: async () => ((await ask({ probe: "tracer" })).result as { tracerLoaded: boolean }).tracerLoaded,
    output: () => chunks.join("").split("\n").filter((l) => l.trim() !== ""),
    close: () =>
      new Promise<void>((resolve) => {
        // Exited, or killed by a signal (then exitCode stays null): its `exit` event has already fired.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  });
}

/** A UDP "X-Ray daemon" on 127.0.0.1 that keeps every datagram. */
export interface TraceSink {
  readonly address: string;
  readonly datagrams: string[];
  /** The segment documents (the JSON after the `{"format":"json","version":1}` header line). */
  documents(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTraceSink(): Promise<TraceSink> {
  const socket: Socket = createSocket("udp4");
  const datagrams: string[] = [];
  socket.on("message", (msg) => datagrams.push(msg.toString("utf8")));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return track({
    address: `127.0.0.1:${port}`,
    datagrams,
    documents: () =>
      datagrams.flatMap((d) => {
        const body = d.split("\n").slice(1).join("\n");
        try {
          return [JSON.parse(body) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  });
}
