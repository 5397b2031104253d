import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const DIST = join(__dirname, "..", "..", "dist", "index.js");

export interface DistInvocation {
  readonly result?: unknown;
  readonly error?: { message: string; type: string };
}

export interface DistProcess {
  invoke(event: unknown): Promise<DistInvocation>;
  /** Every line the bundle wrote to stdout and stderr so far. */
  output(): string[];
  close(): Promise<void>;
}

/** Starts the built dist/index.js in a fresh Node process with exactly `env` (plus PATH). */
export async function startDist(env: Record<string, string>): Promise<DistProcess> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does)`);
  const child: ChildProcess = fork(join(__dirname, "dist-driver.cjs"), [DIST], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  const pending = new Map<number, (r: DistInvocation) => void>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`dist process exited with ${code}: ${chunks.join("")}`)));
    child.on("message", (msg: { ready?: boolean; id?: number } & DistInvocation) => {
      if (msg.ready) return resolve();
      const done = pending.get(msg.id ?? -1);
      pending.delete(msg.id ?? -1);
      done?.({ ...(msg.result !== undefined ? { result: msg.result } : {}), ...(msg.error ? { error: msg.error } : {}) });
    });
  });
  return {
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event });
      });
    },
    output: () => chunks.join("").split("\n").filter((l) => l.trim() !== ""),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
