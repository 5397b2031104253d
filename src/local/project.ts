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
