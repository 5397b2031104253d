/**
 * The test tree's layout, as the README describes it:
 * - test/ mirrors src/: every TypeScript module under src/ (src/local/ included) has a test file of the
 *   same name at the same relative place under test/ (src/verifier.ts → test/verifier.test.ts,
 *   src/local/gateway.ts → test/local/gateway.test.ts), so a newcomer finds a module's tests without
 *   searching and a new module without tests shows up here;
 * - bench/ depends on the kit in test/support/, never the other way round.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { moduleSpecifiers, typeScriptModules } from "../support/source-tree";

const ROOT = join(__dirname, "..", "..");

/** The modules under `srcDir` with no `<same path>.test.ts` under `testDir`. */
function modulesWithoutTests(srcDir: string, testDir: string): string[] {
  return typeScriptModules(srcDir).filter((module) => !existsSync(join(testDir, module.replace(/\.ts$/, ".test.ts"))));
}

describe("test/ mirrors src/", () => {
  it("finds the modules of src/ and src/local/", () => {
    const modules = typeScriptModules(join(ROOT, "src"));
    expect(modules).toEqual(expect.arrayContaining(["index.ts", "verifier.ts", "local/gateway.ts", "local/tokens.ts"]));
    expect(modules.filter((m) => m.endsWith(".d.ts") || !m.endsWith(".ts"))).toEqual([]);
  });

  it("every module in src/ has test/<same path>.test.ts", () => {
    expect(modulesWithoutTests(join(ROOT, "src"), join(ROOT, "test"))).toEqual([]);
  });
});

describe("test/ does not depend on bench/", () => {
  /** `test/<module>: <specifier>` for each import of a test module that leads into bench/. */
  const importsOfBench = (testDir: string) =>
    typeScriptModules(testDir).flatMap((module) => {
      const file = join(testDir, module);
      const intoBench = (specifier: string) => specifier.startsWith(".") && relative(ROOT, resolve(dirname(file), specifier)).split(sep)[0] === "bench";
      return moduleSpecifiers(file)
        .filter(intoBench)
        .map((specifier) => `test/${module}: ${specifier}`);
    });

  it("no module in test/ imports from bench/", () => {
    expect(importsOfBench(join(ROOT, "test"))).toEqual([]);
  });
});
