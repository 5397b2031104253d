// Bundles the Lambda handler into a minified CommonJS file, dist/index.js, and the Tracer it loads only
// where tracing is wanted into dist/tracer.js (3. below), each with its source map.
// Target: the Lambda Node.js 22 runtime, still loadable by Node 20. Nothing from node_modules
// is needed at run time: every dependency is bundled (the AWS SDK is not used at all).
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loggerNoSpreadRetention } from "./logger-patch.cjs";

// Five plugins keep the bundle and its load time lean without changing what runs, and a sixth works
// around a V8 garbage-collection pathology in one line of the Logger (measured with `npm run bench`;
// see docs/performance.md).
//
// 1. dist/tracer.js (3.) takes Powertools commons and InvokeStore from this bundle through `require`
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
//    the build of dist/tracer.js; in the main build it only guards against semver coming back.
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

// 4. aws-xray-sdk-core (under the Tracer) requires its whole package.json (~1.7 KB minified) to put its
//    name and version on segments. It gets those two fields; the build fails if its importer ever
//    reads anything else of it.
const xrayPackageInfo = {
  name: "xray-package-info",
  setup(b) {
    b.onResolve({ filter: /\/package\.json$/ }, (args) => {
      if (!/aws-xray-sdk-core\/dist\/lib\/aws-xray\.js$/.test(args.importer)) return undefined;
      const read = new Set([...readFileSync(args.importer, "utf8").matchAll(/\bpkginfo\.(\w+)/g)].map((m) => m[1]));
      const others = [...read].filter((field) => field !== "name" && field !== "version");
      if (read.size === 0 || others.length > 0) {
        return { errors: [{ text: `${args.importer} reads pkginfo.${others[0] ?? "(unknown)"}: extend the xray-package-info plugin` }] };
      }
      return { path: join(args.resolveDir, args.path), namespace: "xray-package-info" };
    });
    b.onLoad({ filter: /.*/, namespace: "xray-package-info" }, (args) => {
      const { name, version } = JSON.parse(readFileSync(args.path, "utf8"));
      return { contents: JSON.stringify({ name, version }), loader: "json" };
    });
  },
};

// 5. aws-xray-sdk-core (under the Tracer) requires its list of AWS SDK calls whose parameters it copies
//    onto subsegments (aws_whitelist.json, ~10 KB minified). That list is only read when an AWS SDK
//    client is captured (Tracer.captureAWS*), and this function uses no AWS SDK: it gets an empty list
//    (`{"services":{}}`, the shape its reader expects). The build fails if src/ ever captures an AWS
//    SDK client or imports one, so the list cannot be missing where it would be read.
const noAwsSdkWhitelist = {
  name: "no-aws-sdk-whitelist",
  setup(b) {
    b.onResolve({ filter: /\/aws_whitelist\.json$/ }, (args) => {
      if (!/aws-xray-sdk-core\/dist\/lib\/patchers\/call_capturer\.js$/.test(args.importer)) return undefined;
      const users = readdirSync("src", { recursive: true })
        .filter((file) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(String(file)))
        .filter((file) => /\bcaptureAWS|["'`](?:@aws-sdk\/|aws-sdk["'`/])/.test(readFileSync(join("src", String(file)), "utf8")));
      if (users.length > 0) {
        return { errors: [{ text: `src/${users[0]} uses the AWS SDK: remove the no-aws-sdk-whitelist plugin so its calls are traced with their parameters` }] };
      }
      return { path: args.path, namespace: "no-aws-sdk-whitelist" };
    });
    b.onLoad({ filter: /.*/, namespace: "no-aws-sdk-whitelist" }, () => ({ contents: '{"services":{}}', loader: "json" }));
  },
};

// 6. On Node 20, Powertools' Logger promotes every log line's attributes to the old generation once
//    `addContext` has run, through a V8 11.3 pathology: see scripts/logger-patch.cjs, which rewrites
//    that one expression (and fails the build if it is not found exactly once, or not bundled at all).

rmSync("dist", { recursive: true, force: true });

// 3. The Tracer (with aws-xray-sdk-core: ~100 KB) is only needed where tracing is wanted, yet V8 parses
//    all the code a file holds when it loads it (~3 ms of cold start here). So the Tracer is built as
//    a second file, dist/tracer.js (with its source map), that dist/index.js loads with a plain
//    `require("./tracer.js")` from the one `require("@aws-lambda-powertools/tracer")` of
//    src/observability.ts, made only when tracing is wanted. Where tracing is off, that file is never
//    read. tracer.js exports one function that takes the modules it shares with dist/index.js
//    (Powertools commons and InvokeStore: one instance of each, as in 1.) and returns the Tracer
//    package; everything else it needs is inside it.
const TRACER_FILE = "tracer.js";
const SHARED_WITH_TRACER = ["@aws-lambda-powertools/commons", "@aws-lambda-powertools/commons/utils/env", "@aws/lambda-invoke-store"];
const SHARED_VARIABLE = "__sharedWithTracer";
// In dist/tracer.js: each shared module is read from the object dist/index.js hands over.
const sharedFromHost = {
  name: "shared-from-host",
  setup(b) {
    const filter = new RegExp(`^(${SHARED_WITH_TRACER.map((id) => id.replace(/[/.]/g, "\\$&")).join("|")})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "shared-from-host" }));
    b.onLoad({ filter: /.*/, namespace: "shared-from-host" }, (args) => ({
      contents: `module.exports = ${SHARED_VARIABLE}[${JSON.stringify(args.path)}];`,
      loader: "js",
    }));
  },
};
const tracerBuild = build({
  stdin: {
    // The bundled Tracer package is evaluated on the first call, once the shared modules are known.
    contents: `module.exports = (shared) => { ${SHARED_VARIABLE} = shared; return require("@aws-lambda-powertools/tracer"); };`,
    resolveDir: process.cwd(),
    sourcefile: "tracer-entry.js",
    loader: "js",
  },
  banner: { js: `let ${SHARED_VARIABLE};` },
  outfile: `dist/${TRACER_FILE}`,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [semverGteOnly, sharedFromHost, xrayPackageInfo, noAwsSdkWhitelist],
});
// In dist/index.js: the Tracer package is dist/tracer.js, handed this bundle's shared modules.
const tracerFile = {
  name: "tracer-file",
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/tracer$/ }, (args) =>
      args.kind === "require-call" ? { path: "tracer", namespace: "tracer-file" } : undefined,
    );
    b.onResolve({ filter: new RegExp(`^\\./${TRACER_FILE.replace(".", "\\.")}$`) }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "tracer-file" }, () => ({
      resolveDir: process.cwd(),
      loader: "js",
      contents: `module.exports = require("./${TRACER_FILE}")({ ${SHARED_WITH_TRACER.map((id) => `${JSON.stringify(id)}: require(${JSON.stringify(id)})`).join(", ")} });`,
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
  plugins: [commonsOnce, semverGteOnly, tracerFile, loggerNoSpreadRetention],
});
const tracer = await tracerBuild;
const js = (r) => Object.entries(r.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const files = [...js(result), ...js(tracer)];
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`${files.map(([file, o]) => `${file} ${kb(o.bytes)}`).join(", ")}; together ${kb(files.reduce((n, [, o]) => n + o.bytes, 0))}`);
