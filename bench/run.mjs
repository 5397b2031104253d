// `npm run bench`: bundles the benchmark's TypeScript (bench/*.ts) with esbuild into
// bench/results/build/ (git-ignored), then runs it. Packages stay external: they load from
// node_modules at run time, exactly as installed by `npm ci`. Needs `npm run build` first.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TOOL_BUILD_OPTIONS } from "../scripts/run-ts.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "dist", "index.js"))) {
  console.error("dist/index.js is missing: run `npm run build` first (the bench measures the shipped bundle).");
  process.exit(1);
}
const outdir = join(root, "bench", "results", "build");
await build({
  entryPoints: ["main", "throughput-worker", "cold-runner", "memory-runner"].map((n) => join(root, "bench", `${n}.ts`)),
  outdir,
  outExtension: { ".js": ".cjs" },
  ...TOOL_BUILD_OPTIONS,
  logLevel: "warning",
});
const result = spawnSync(process.execPath, [join(outdir, "main.cjs")], { stdio: "inherit", cwd: root });
process.exit(result.status ?? 1);
