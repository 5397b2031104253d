// `npm run loadtest`: bundles bench/loadtest/loadtest.ts with esbuild (packages stay external) into
// node_modules/.cache and runs it against the local stack on 127.0.0.1. Needs dist/ (the npm
// script builds it first). Bounded: 1 s warm-up + two phases of --duration seconds (default 10).
import { build } from "esbuild";
import { mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "node_modules", ".cache", "jwt-authorizer-loadtest");
const outFile = join(outDir, "loadtest.cjs");
const tmpFile = join(outDir, `loadtest.${process.pid}.cjs`);
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(root, "bench", "loadtest", "loadtest.ts")],
  outfile: tmpFile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "inline",
  logLevel: "error",
});
renameSync(tmpFile, outFile);
const { main } = createRequire(import.meta.url)(outFile);
process.exitCode = await main(process.argv.slice(2));
