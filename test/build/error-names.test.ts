/**
 * dist/index.js is minified without keepNames (see scripts/build.mjs), so decision logs name a
 * failure by the literal `name` our errors carry (AuthorizerError) or, for aws-jwt-verify's, by the
 * table in src/errors.ts. This builds the error modules the same way and checks that every error
 * class a decision can name keeps its source name.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import * as jwtErrors from "aws-jwt-verify/error";
import * as binding from "../../src/binding";
import * as claimChecks from "../../src/claim-checks";
import * as dpop from "../../src/dpop";
import * as errors from "../../src/errors";
import * as jwks from "../../src/jwks";

const ROOT = join(__dirname, "..", "..");
const MODULES = { errors, "claim-checks": claimChecks, jwks, binding, dpop } as const;

/** Every concrete AuthorizerError subclass exported by our modules, by module and export name. */
const ours: [keyof typeof MODULES, string][] = Object.entries(MODULES).flatMap(([module, exports]) =>
  Object.entries(exports)
    .filter(([, value]) => typeof value === "function" && value.prototype instanceof errors.AuthorizerError)
    .map(([name]) => [module as keyof typeof MODULES, name] as [keyof typeof MODULES, string]),
);

describe("error class names in a minified bundle", () => {
  let dir: string;
  let bundled: Record<string, Record<string, unknown>> & { reasonOf(err: unknown): string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "error-names-"));
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      [
        ...Object.keys(MODULES).map((m) => `export * as ${m.replace("-", "_")} from ${JSON.stringify(join(ROOT, "src", m))};`),
        `export { reasonOf } from ${JSON.stringify(join(ROOT, "src", "errors"))};`,
        `export * as jwtErrors from "aws-jwt-verify/error";`,
      ].join("\n"),
    );
    const outfile = join(dir, "bundle.js");
    buildSync({ entryPoints: [entry], outfile, bundle: true, platform: "node", target: "node20", format: "cjs", minify: true, keepNames: false, logLevel: "silent", nodePaths: [join(ROOT, "node_modules")] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundled = require(outfile);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds our error classes (so the table below is not empty)", () => {
    expect(ours.map(([, name]) => name)).toEqual(
      expect.arrayContaining(["MissingTokenError", "ConfigError", "RequiredClaimError", "NonCanonicalEncodingError", "JwksTooLargeError", "DpopDowngradeError", "DpopProofReplayedError"]),
    );
  });

  it("minification really does lose the class names (so the literal names are needed)", () => {
    const Cls = bundled.errors.UnknownIssuerError as new (m: string) => Error;
    expect(new Cls("x").constructor.name).not.toBe("UnknownIssuerError");
  });

  it.each(ours)("names %s's %s by its source name", (module, name) => {
    const Cls = bundled[module.replace("-", "_")][name] as new (...args: string[]) => Error;
    expect(bundled.reasonOf(new Cls("VAR", "problem"))).toBe(name);
  });

  it.each(Object.keys(jwtErrors).filter((k) => k.endsWith("Error")))("names aws-jwt-verify's %s by its source name", (name) => {
    const Cls = (bundled.jwtErrors as Record<string, new (...args: unknown[]) => Error>)[name];
    expect(bundled.reasonOf(new Cls("message", undefined, undefined))).toBe(name);
  });

  it("still names built-in errors and non-errors", () => {
    expect(bundled.reasonOf(new TypeError("x"))).toBe("TypeError");
    expect(bundled.reasonOf("a string")).toBe("string");
  });
});
