/**
 * The one loader of a built bundle into this process, for the bench's purpose-built runners (cold start,
 * peak memory, decision rate): resolves the file, `require`s it (module-scope init runs here, as at a
 * cold start) and returns its handler. It sets nothing global and adds nothing per call: the handler is
 * the bundle's own function. Tests that want the bundle in its own process use lambda-process.ts.
 */
import type { Context } from "aws-lambda";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { projectPaths, projectRoot } from "../../src/local/project";

/** A handler as the shipped bundle (and the bench's reference bundle) exports it. */
export type Handler = (event: unknown, context?: Context) => Promise<unknown>;

/** The shipped bundle, dist/index.js (`npm run build`); found by walking up, so it is right from test/support and from a bundled tool. */
export const DIST_BUNDLE = projectPaths(projectRoot(__dirname)).bundle;

/** The bundle the bench measures: BENCH_BUNDLE when set (another build), dist/index.js otherwise. */
export function bundlePath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BENCH_BUNDLE || DIST_BUNDLE);
}

export interface LoadedBundle {
  /** The absolute path that was loaded. */
  readonly file: string;
  readonly handler: Handler;
}

/** The message for a bundle that is not there, naming the command that builds it. */
export function missingBundleMessage(file: string): string {
  return `${file} is missing: run \`npm run build\` first (npm test and npm run bench need it)`;
}

/** Loads `file` (default: bundlePath()) in this process; a missing file is an error that says how to build it. */
export function loadBundle(file: string = bundlePath()): LoadedBundle {
  const path = resolve(file);
  let exports: { handler?: unknown };
  try {
    exports = createRequire(__filename)(path) as { handler?: unknown };
  } catch (err) {
    // Looked at only after a failure, so a runner's timed load is the require alone.
    throw existsSync(path) ? err : new Error(missingBundleMessage(path), { cause: err });
  }
  if (typeof exports.handler !== "function") throw new Error(`${path} does not export a handler function`);
  return { file: path, handler: exports.handler as Handler };
}
