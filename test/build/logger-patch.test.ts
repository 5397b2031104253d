/**
 * scripts/logger-patch.cjs rewrites one expression of Powertools' Logger in the bundle (plugin 6 of
 * scripts/build.mjs), to spare Node 20's V8 a garbage-collection pathology. The oracle here is the
 * unpatched Logger from node_modules: for any Lambda context, message and attributes, the patched
 * Logger must write exactly the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger as PristineLogger } from "@aws-lambda-powertools/logger";
import { build } from "esbuild";
import fc from "fast-check";

interface LoggerPatch {
  LOGGER_SPREAD: string;
  LOGGER_ASSIGN: string;
  patchLoggerSource(source: string, file: string): string;
  loggerNoSpreadRetention: import("esbuild").Plugin;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const patch = require("../../scripts/logger-patch.cjs") as LoggerPatch;

const ROOT = join(__dirname, "..", "..");
let outDir: string;
let PatchedLogger: typeof PristineLogger;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "logger-patch-"));
  const outfile = join(outDir, "logger.js");
  // Bundled the way dist/index.js bundles it: the ESM build of the package, through the plugin.
  await build({
    stdin: { contents: 'export { Logger } from "@aws-lambda-powertools/logger";', resolveDir: ROOT, loader: "js" },
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "silent",
    plugins: [patch.loggerNoSpreadRetention],
  });
  const bundled = readFileSync(outfile, "utf8");
  expect(bundled).toContain(patch.LOGGER_ASSIGN);
  expect(bundled).not.toContain(patch.LOGGER_SPREAD);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  PatchedLogger = (require(outfile) as { Logger: typeof PristineLogger }).Logger;
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** What a Logger writes to stdout and stderr while `run` runs, chunk by chunk, at a fixed clock. */
function written(run: () => void): string[] {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, "write").mockImplementation(capture);
  const err = jest.spyOn(process.stderr, "write").mockImplementation(capture);
  try {
    run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks;
}

const lambdaContext = fc.record({
  functionName: fc.string(),
  invokedFunctionArn: fc.string(),
  awsRequestId: fc.string(),
  memoryLimitInMB: fc.oneof(fc.string(), fc.integer()),
  functionVersion: fc.string(),
  tenantId: fc.option(fc.string(), { nil: undefined }),
});
const call = fc.record({
  context: fc.option(lambdaContext, { nil: undefined }),
  level: fc.constantFrom("info", "warn", "error", "debug"),
  message: fc.string(),
  attributes: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })),
});

describe("the Logger as bundled (scripts/logger-patch.cjs)", () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date("2026-12-03T12:34:56.789Z") }));
  afterEach(() => jest.useRealTimers());

  it("writes byte for byte what the unpatched Logger writes, for any context, message and attributes", () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 6 }), fc.constantFrom("INFO", "DEBUG"), (calls, logLevel) => {
        const run = (LoggerClass: typeof PristineLogger) => () => {
          const logger = new LoggerClass({ serviceName: "svc", logLevel });
          for (const c of calls) {
            if (c.context) logger.addContext(c.context as unknown as import("aws-lambda").Context);
            logger[c.level as "info"](c.message, c.attributes);
          }
        };
        const pristine = written(run(PristineLogger));
        // At least the lines the calls asked for (reserved keys add warnings; both must agree on those too).
        expect(pristine.length).toBeGreaterThanOrEqual(calls.filter((c) => c.level !== "debug" || logLevel === "DEBUG").length);
        expect(written(run(PatchedLogger))).toEqual(pristine);
      }),
      { numRuns: 300 },
    );
  });

  it("carries the Lambda context fields once addContext has run (the rewritten expression is on this path)", () => {
    const context = { functionName: "fn", invokedFunctionArn: "arn:fn", awsRequestId: "req-1", memoryLimitInMB: "256", functionVersion: "$LATEST" };
    const [line] = written(() => {
      const logger = new PatchedLogger({ serviceName: "svc" });
      logger.addContext(context as unknown as import("aws-lambda").Context);
      logger.info("decision");
    });
    expect(JSON.parse(line)).toMatchObject({ function_name: "fn", function_arn: "arn:fn", function_request_id: "req-1", function_memory_size: "256" });
  });
});

describe("patchLoggerSource", () => {
  it("rewrites the one expression and nothing else", () => {
    const source = `a();\n${patch.LOGGER_SPREAD}\nb();`;
    expect(patch.patchLoggerSource(source, "Logger.js")).toBe(`a();\n${patch.LOGGER_ASSIGN}\nb();`);
  });

  it("fails, naming the file, when the expression is missing or there twice (a Powertools upgrade changed it)", () => {
    expect(() => patch.patchLoggerSource("return { ...this.other, lambdaContext };", "x/Logger.js")).toThrow(/x\/Logger\.js has 0 copies/);
    expect(() => patch.patchLoggerSource(`${patch.LOGGER_SPREAD}${patch.LOGGER_SPREAD}`, "x/Logger.js")).toThrow(/has 2 copies/);
  });

  it("finds the expression exactly once in the installed Powertools Logger, in both of its builds", () => {
    for (const build of ["esm", "cjs"]) {
      const file = join(ROOT, "node_modules", "@aws-lambda-powertools", "logger", "lib", build, "Logger.js");
      expect(patch.patchLoggerSource(readFileSync(file, "utf8"), file)).toContain(patch.LOGGER_ASSIGN);
    }
  });

  it("is applied to the shipped bundle", () => {
    const bundle = readFileSync(join(ROOT, "dist", "index.js"), "utf8");
    expect(bundle).toMatch(/Object\.assign\(\{\},this\.powertoolsLogData,\{lambdaContext:[\w$]+\}\)/);
    expect(bundle).not.toMatch(/\.\.\.this\.powertoolsLogData/);
  });
});
