// Bundles the Lambda handler into one minified CommonJS file, dist/index.js (+ source map).
// Target: the Lambda Node.js 22 runtime, still loadable by Node 20. Nothing from node_modules
// is needed at run time: every dependency is bundled (the AWS SDK is not used at all).
import { build } from "esbuild";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const result = await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  // Decision logs name the failure by its class (JwtExpiredError…): keep class names through minification.
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`dist/index.js ${(bytes / 1024).toFixed(1)} KB`);
