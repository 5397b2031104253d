// Bundles the Lambda handler into one minified CommonJS file, dist/index.js (+ source map).
// Target: the Lambda Node.js 22 runtime, still loadable by Node 20. Nothing from node_modules
// is needed at run time: every dependency is bundled (the AWS SDK is not used at all).
import { build } from "esbuild";
import { readFileSync, rmSync } from "node:fs";

// Three plugins keep the bundle and its load time lean without changing what runs (measured with
// `npm run bench`; see docs/performance.md). Everything stays in the one file.
//
// 1. The Tracer chunk (3.) takes Powertools commons and InvokeStore from this bundle through `require`
//    calls, and `require` picks a package's CommonJS build: a second, CommonJS copy of commons beside
//    the ESM copy that Logger and Metrics import. Those requires get the ESM copy instead (esbuild wraps
//    it for require). The Tracer itself stays CommonJS on purpose: its module body sets
//    AWS_XRAY_CONTEXT_MISSING before it requires aws-xray-sdk-core, an order its ESM build (hoisted
//    imports) does not keep.
const commonsOnce = {
  name: "commons-once",
  setup(b) {
    b.onResolve({ filter: /^(@aws-lambda-powertools\/commons(\/.*)?|@aws\/lambda-invoke-store)$/ }, async (args) => {
      if (args.kind !== "require-call") return undefined;
      const resolved = await b.resolve(args.path, { kind: "import-statement", resolveDir: args.resolveDir });
      return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: resolved.path };
    });
  },
};

// 2. aws-xray-sdk-core (under the Tracer) requires all of `semver` (~20 KB minified: ranges, comparators)
//    for one `semver.gte` call in its AWS SDK v2 patcher. That importer gets semver's own `gte` module
//    instead; the build fails if an importer of `semver` ever uses anything else. Since 3., it acts in
//    the Tracer chunk's build; in the main build it only guards against semver coming back.
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

// 3. The Tracer (with aws-xray-sdk-core: ~100 KB of the bundle) is only needed where tracing is wanted,
//    yet V8 parses all the code a file holds when it loads it (~3 ms of cold start here). So the Tracer
//    is built as its own CommonJS chunk and kept inside dist/index.js as a string constant, produced
//    here at build time from node_modules (never from input). The one
//    `require("@aws-lambda-powertools/tracer")`, made by src/observability.ts only when tracing is
//    wanted, compiles it with vm.runInThisContext. Still one file; where tracing is off, that code is
//    never parsed. The chunk shares this bundle's Powertools commons and InvokeStore (one instance,
//    as in 1.); everything else it needs is inside it. Frames inside the Tracer show as
//    `index.js#tracer` (no source map for the chunk).
const CHUNK_SHARED = ["@aws-lambda-powertools/commons", "@aws-lambda-powertools/commons/utils/env", "@aws/lambda-invoke-store"];
async function tracerChunk() {
  const chunk = await build({
    stdin: { contents: 'module.exports = require("@aws-lambda-powertools/tracer");', resolveDir: process.cwd(), loader: "js" },
    bundle: true,
    write: false,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    external: CHUNK_SHARED,
    logLevel: "warning",
    plugins: [semverGteOnly],
  });
  return chunk.outputFiles[0].text;
}
const tracerLazy = {
  name: "tracer-lazy",
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/tracer$/ }, (args) =>
      args.kind === "require-call" ? { path: "tracer", namespace: "tracer-lazy" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "tracer-lazy" }, async () => ({
      resolveDir: process.cwd(),
      loader: "js",
      contents: [
        'const { runInThisContext } = require("node:vm");',
        `const shared = { ${CHUNK_SHARED.map((id) => `${JSON.stringify(id)}: require(${JSON.stringify(id)})`).join(", ")} };`,
        `const code = ${JSON.stringify(await tracerChunk())};`,
        'const load = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: `${__filename}#tracer` });',
        "const chunk = { exports: {} };",
        "load.call(chunk.exports, chunk.exports, (id) => (Object.hasOwn(shared, id) ? shared[id] : require(id)), chunk, __filename, __dirname);",
        "module.exports = chunk.exports;",
      ].join("\n"),
    }));
  },
};

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
  plugins: [commonsOnce, semverGteOnly, tracerLazy],
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`dist/index.js ${(bytes / 1024).toFixed(1)} KB`);
