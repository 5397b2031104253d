import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { bundlePath, DIST_BUNDLE, loadBundle } from "./bundle";

let dir: string;
const write = (name: string, source: string) => {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bundle-loader-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bundlePath", () => {
  it("is the repository's dist/index.js by default", () => {
    expect(relative(join(__dirname, "..", ".."), DIST_BUNDLE)).toBe(join("dist", "index.js"));
    expect(bundlePath({})).toBe(DIST_BUNDLE);
    expect(bundlePath({ BENCH_BUNDLE: "" })).toBe(DIST_BUNDLE);
  });

  it("is BENCH_BUNDLE's file when set, made absolute", () => {
    expect(bundlePath({ BENCH_BUNDLE: "other/index.js" })).toBe(resolve("other/index.js"));
  });
});

describe("loadBundle", () => {
  it("returns the module's own handler, runs its module scope once, and leaves the globals alone", async () => {
    const file = write(
      "ok.js",
      "exports.inits = (exports.inits ?? 0) + 1; exports.handler = async (event, context) => ({ event, id: context.awsRequestId });",
    );
    const globals = Object.keys(globalThis).sort();
    const env = { ...process.env };
    const first = loadBundle(file);
    const second = loadBundle(relative(process.cwd(), file));
    expect(first.file).toBe(file);
    expect(second.handler).toBe(first.handler);
    expect(await first.handler({ a: 1 }, { awsRequestId: "r-1" } as never)).toEqual({ event: { a: 1 }, id: "r-1" });
    expect(Object.keys(globalThis).sort()).toEqual(globals);
    expect(process.env).toEqual(env);
  });

  it("says how to build a bundle that is missing", () => {
    expect(() => loadBundle(join(dir, "absent.js"))).toThrow(/absent\.js is missing: run `npm run build` first/);
  });

  it("passes a load error of the bundle's own through unchanged (a dependency it cannot find is not a missing bundle)", () => {
    const file = write("broken.js", 'require("./no-such-dependency"); exports.handler = async () => 1;');
    expect(() => loadBundle(file)).toThrow(/Cannot find module '\.\/no-such-dependency'/);
    expect(() => loadBundle(file)).not.toThrow(/npm run build/);
  });

  it("refuses a module without a handler function", () => {
    expect(() => loadBundle(write("none.js", "exports.handler = 42;"))).toThrow(/does not export a handler function/);
  });
});
