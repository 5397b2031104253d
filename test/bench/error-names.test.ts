/**
 * dist/index.js is minified without keepNames (see scripts/build.mjs), so decision logs get the
 * failure's class name from the table in src/errors.ts. This builds src/errors.ts and src/verifier.ts
 * the same way and checks that every error class a decision can name keeps its source name.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import * as jwtErrors from "aws-jwt-verify/error";

const ROOT = join(__dirname, "..", "..");
const ours = ["MissingTokenError", "UnknownIssuerError", "ClaimShapeError", "MalformedEventError", "ConfigError"];

describe("error class names in a minified bundle", () => {
  let dir: string;
  let bundled: Record<string, unknown> & { reasonOf(err: unknown): string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "error-names-"));
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      [
        `export * from ${JSON.stringify(join(ROOT, "src", "errors"))};`,
        `export { RequiredClaimError } from ${JSON.stringify(join(ROOT, "src", "verifier"))};`,
        `export * as jwtErrors from "aws-jwt-verify/error";`,
      ].join("\n"),
    );
    const outfile = join(dir, "bundle.js");
    buildSync({ entryPoints: [entry], outfile, bundle: true, platform: "node", target: "node20", format: "cjs", minify: true, keepNames: false, logLevel: "silent", nodePaths: [join(ROOT, "node_modules")] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundled = require(outfile);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("minification really does lose the class names (so the table is needed)", () => {
    const Cls = bundled.UnknownIssuerError as new (m: string) => Error;
    expect(new Cls("x").constructor.name).not.toBe("UnknownIssuerError");
  });

  it.each(ours)("names our %s by its source name", (name) => {
    const Cls = bundled[name] as new (...args: string[]) => Error;
    expect(bundled.reasonOf(new Cls("VAR", "problem"))).toBe(name);
  });

  it("names RequiredClaimError by its source name", () => {
    const Cls = bundled.RequiredClaimError as new (...args: unknown[]) => Error;
    expect(bundled.reasonOf(new Cls("no exp", undefined, "a number"))).toBe("RequiredClaimError");
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
