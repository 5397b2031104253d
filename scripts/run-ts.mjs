// Runs a TypeScript tool with plain `node`: bundles `entry` with esbuild (packages stay external,
// loaded from node_modules as `npm ci` installed them) into node_modules/.cache/<cacheName>, then
// calls its exported `main(argv)` and sets the exit code from it. Used by the local tools
// (src/local/run.mjs) and the load test (bench/loadtest/run.mjs). Prints nothing itself.
import { build } from "esbuild";
import { mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** esbuild options for the repository's TypeScript tools (not the Lambda bundle: see scripts/build.mjs). */
export const TOOL_BUILD_OPTIONS = Object.freeze({
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "inline",
});

/**
 * Bundles a TypeScript module and loads it (CommonJS), for plain-Node callers.
 * @param {string} entry path from the repository root, e.g. "test/support/api-gateway.ts"
 * @param {string} cacheName folder under node_modules/.cache for the bundle
 */
export async function loadTs(entry, cacheName) {
  const outDir = join(ROOT, "node_modules", ".cache", cacheName);
  const name = basename(entry).replace(/\.ts$/, "");
  const outFile = join(outDir, `${name}.cjs`);
  // Built under a per-process name and renamed, so concurrent launches never load a half-written file.
  const tmpFile = join(outDir, `${name}.${process.pid}.cjs`);
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile: tmpFile,
    ...TOOL_BUILD_OPTIONS,
    logLevel: "error",
  });
  renameSync(tmpFile, outFile);
  return createRequire(import.meta.url)(outFile);
}

/** @param {string} entry path from the repository root, e.g. "src/local/cli.ts" */
export async function runTs(entry, cacheName, argv = process.argv.slice(2)) {
  const { main } = await loadTs(entry, cacheName);
  process.exitCode = await main(argv);
}
