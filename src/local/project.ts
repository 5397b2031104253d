import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The repository root: the nearest directory above `from` holding package.json and the local
 * runtime script. Works from src/local (ts-jest) and from the CLI bundle under node_modules/.cache.
 */
export function projectRoot(from = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "src", "local", "lambda-runtime.mjs"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root above ${from}`);
    dir = parent;
  }
}

/** Where things are in a checkout. */
export function projectPaths(root = projectRoot()) {
  return {
    root,
    /** The task root the invoke server loads the handler from: the build output (`npm run build`). */
    taskRoot: join(root, "dist"),
    bundle: join(root, "dist", "index.js"),
    runtimeScript: join(root, "src", "local", "lambda-runtime.mjs"),
    accessRules: join(root, "access-rules.example.json"),
  };
}

/** The sample events in events/, by name; each carries TOKEN_PLACEHOLDER where a bearer token goes. */
export const EVENT_FILES = { token: "token.json", request: "request.json", "http-api": "http-api.json" } as const;
export type EventName = keyof typeof EVENT_FILES;
export const TOKEN_PLACEHOLDER = "REPLACE_WITH_TOKEN";
