/**
 * scripts/logger-patch.cjs rewrites one expression of Powertools' Logger in the bundle (plugin 6 of
 * scripts/build.mjs), to spare Node 20's V8 a garbage-collection pathology. The oracle here is the
 * unpatched Logger from node_modules: for any options, Lambda contexts and calls, through the default
 * formatter or one that prints every attribute, the patched Logger must write exactly the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
type LoggerModule = typeof import("@aws-lambda-powertools/logger");
const pristine: LoggerModule = require("@aws-lambda-powertools/logger") as LoggerModule; // eslint-disable-line @typescript-eslint/no-require-imports
let outDir: string;
let patched: LoggerModule;
const initializationType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "logger-patch-"));
  const outfile = join(outDir, "logger.js");
  // Bundled the way dist/index.js bundles it: the ESM build of the package, through the plugin.
  await build({
    stdin: { contents: 'export { Logger, LogFormatter, LogItem } from "@aws-lambda-powertools/logger";', resolveDir: ROOT, loader: "js" },
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
  patched = require(outfile) as LoggerModule; // eslint-disable-line @typescript-eslint/no-require-imports
  // Powertools reads this when a Logger is made: the first line after addContext then says cold_start true.
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
});
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  if (initializationType === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initializationType;
});

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

/**
 * A formatter that prints everything the Logger hands it, in the order it comes: the unformatted base
 * attributes (where the rewritten expression's object is spread: service, environment, sample rate,
 * Lambda context, and their order) and the additional ones. The default formatter drops some of them.
 */
function everythingFormatter(lib: LoggerModule): InstanceType<LoggerModule["LogFormatter"]> {
  class Everything extends lib.LogFormatter {
    formatAttributes(attributes: object, additional: object) {
      return new lib.LogItem({ attributes: { base: attributes, additional } as never });
    }
  }
  return new Everything();
}

const lambdaContext = fc.record({
  functionName: fc.string(),
  invokedFunctionArn: fc.string(),
  awsRequestId: fc.string(),
  memoryLimitInMB: fc.oneof(fc.string(), fc.integer()),
  functionVersion: fc.string(),
  tenantId: fc.option(fc.string(), { nil: undefined }),
});
const attributes = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const step = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("context" as const), context: lambdaContext }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("log" as const),
      level: fc.constantFrom("trace", "debug", "info", "warn", "error", "critical"),
      message: fc.string(),
      attributes,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("append" as const), attributes }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("child" as const) }) },
);
const options = fc.record({
  serviceName: fc.string({ minLength: 1, maxLength: 10 }),
  environment: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
  // 0 and 1 only: any other rate samples at random, and the two loggers could disagree by chance.
  sampleRateValue: fc.constantFrom(0, 1),
  logLevel: fc.constantFrom("TRACE", "DEBUG", "INFO", "WARN"),
  persistentKeys: attributes,
  everything: fc.boolean(),
});

type Logger = InstanceType<LoggerModule["Logger"]>;
/** Runs the steps on a new Logger of `lib`; what it wrote, and its own data afterwards (which must not change). */
function play(lib: LoggerModule, opts: Record<string, unknown>, steps: unknown[]) {
  let data = "";
  const lines = written(() => {
    const { everything, ...rest } = opts;
    let logger: Logger = new lib.Logger({ ...rest, ...(everything ? { logFormatter: everythingFormatter(lib) } : {}) } as never);
    for (const s of steps as { kind: string; context?: unknown; level?: string; message?: string; attributes?: Record<string, unknown> }[]) {
      if (s.kind === "context") logger.addContext(s.context as import("aws-lambda").Context);
      else if (s.kind === "append") logger.appendKeys(s.attributes ?? {});
      else if (s.kind === "child") logger = logger.createChild();
      else (logger[s.level as "info"] as (m: string, a: unknown) => void)(s.message ?? "", s.attributes);
    }
    data = JSON.stringify((logger as unknown as { powertoolsLogData: unknown }).powertoolsLogData);
  });
  return { lines, data };
}

describe("the Logger as bundled (scripts/logger-patch.cjs)", () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date("2026-12-03T12:34:56.789Z") }));
  afterEach(() => jest.useRealTimers());

  it("writes byte for byte what the unpatched Logger writes, for any options, context, calls and formatter", () => {
    fc.assert(
      fc.property(options, fc.array(step, { minLength: 1, maxLength: 8 }), (opts, steps) => {
        const expected = play(pristine, opts, steps);
        // Never vacuous: a run that logs at WARN or above writes at least one line.
        if (steps.some((s) => s.kind === "log" && ["warn", "error", "critical"].includes(s.level))) {
          expect(expected.lines.length).toBeGreaterThan(0);
        }
        const actual = play(patched, opts, steps);
        expect(actual.lines).toEqual(expected.lines);
        // The object the expression copies from is never changed by it.
        expect(actual.data).toBe(expected.data);
      }),
      { numRuns: 400 },
    );
  });

  it("carries the Lambda context fields once addContext has run (the rewritten expression is on this path)", () => {
    const context = { functionName: "fn", invokedFunctionArn: "arn:fn", awsRequestId: "req-1", memoryLimitInMB: "256", functionVersion: "$LATEST" };
    const [line] = written(() => {
      const logger = new patched.Logger({ serviceName: "svc" });
      logger.addContext(context as unknown as import("aws-lambda").Context);
      logger.info("decision");
    });
    expect(JSON.parse(line)).toMatchObject({ cold_start: true, function_name: "fn", function_arn: "arn:fn", function_request_id: "req-1", function_memory_size: "256" });
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

  it("fails a build that bundles no Logger module through it (a Powertools release moved the file)", async () => {
    const built = build({ stdin: { contents: "module.exports = 1;", resolveDir: ROOT, loader: "js" }, bundle: true, platform: "node", write: false, logLevel: "silent", plugins: [patch.loggerNoSpreadRetention] });
    await expect(built).rejects.toThrow(/no Powertools Logger module was bundled/);
  });

  it("is applied to the shipped bundle", () => {
    const bundle = readFileSync(join(ROOT, "dist", "index.js"), "utf8");
    expect(bundle).toMatch(/Object\.assign\(\{\},this\.powertoolsLogData,\{lambdaContext:[\w$]+\}\)/);
    expect(bundle).not.toMatch(/\.\.\.this\.powertoolsLogData/);
  });
});
