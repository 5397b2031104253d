// Bundles the Lambda handler into one minified CommonJS file, dist/index.js (+ source map).
// Target: the Lambda Node.js 22 runtime, still loadable by Node 20. Nothing from node_modules
// is needed at run time: every dependency is bundled (the AWS SDK is not used at all).
import { build } from "esbuild";
import { readFileSync, rmSync } from "node:fs";

// Two plugins keep the bundle lean without changing what runs (measured with `npm run bench`;
// see docs/performance.md). Everything stays in the one file.
//
// 1. The Tracer is `require`d lazily (src/observability.ts), and `require` picks a package's CommonJS
//    build: its `require("@aws-lambda-powertools/commons…")` pulled a second, CommonJS copy of commons
//    beside the ESM copy that Logger and Metrics import. Those requires get the ESM copy instead (esbuild
//    wraps it for require). The Tracer itself stays CommonJS on purpose: its module body sets
//    AWS_XRAY_CONTEXT_MISSING before it requires aws-xray-sdk-core, an order its ESM build (hoisted
//    imports) does not keep.
const commonsOnce = {
  name: "commons-once",
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/commons(\/.*)?$/ }, async (args) => {
      if (args.kind !== "require-call") return undefined;
      const resolved = await b.resolve(args.path, { kind: "import-statement", resolveDir: args.resolveDir });
      return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: resolved.path };
    });
  },
};

// 2. aws-xray-sdk-core (under the Tracer) requires all of `semver` (~20 KB minified: ranges, comparators)
//    for one `semver.gte` call in its AWS SDK v2 patcher. That importer gets semver's own `gte` module
//    instead; the build fails if an importer of `semver` ever uses anything else.
const semverGteOnly = {
  name: "semver-gte-only",
  setup(b) {
    b.onResolve({ filter: /^semver$/ }, (args) => {
      const used = new Set([...readFileSync(args.importer, "utf8").matchAll(/\bsemver\.(\w+)/g)].map((m) => m[1]));
      const others = [...used].filter((name) => name !== "gte");
      if (used.size === 0 || others.length > 0) {
        return { errors: [{ text: `${args.importer} uses semver.${others[0] ?? "(unknown)"}: extend the semver-gte-only plugin` }] };
      }
      return { path: args.importer, namespace: "semver-gte-only", pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: "semver-gte-only" }, (args) => ({
      contents: 'module.exports = { gte: require("semver/functions/gte") };',
      resolveDir: args.pluginData.resolveDir,
      loader: "js",
    }));
  },
};

rmSync("dist", { recursive: true, force: true });
const result = await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  // Decision logs name the failure by its class (JwtExpiredError…): src/errors.ts keeps a table of
  // those names, so the whole bundle need not pay for keepNames (~13 KB, and init time).
  keepNames: false,
  sourcemap: true,
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [commonsOnce, semverGteOnly],
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`dist/index.js ${(bytes / 1024).toFixed(1)} KB`);
