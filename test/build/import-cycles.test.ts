/**
 * No import cycles in src/, type-only imports included: each module's imports are read with the
 * TypeScript compiler's own parser (`import`, `import type`, `export … from`, `import x = require()`,
 * `require()`, `import()` and `import("…")` types), resolved with the compiler's module resolution
 * under tsconfig.json, and the graph of src/'s modules must have no cycle. A cycle is named module by
 * module, so the fix (usually: move the shared type down, as MintOptions went to tokens.ts) is plain.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import * as ts from "typescript";
import { moduleSpecifiers, typeScriptModules } from "../support/source-tree";

const ROOT = join(__dirname, "..", "..");

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(ROOT, "tsconfig.json");
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile).options;
}

/** Module → the modules of the same set it imports (edges to anything outside the set, packages included, are left out). */
function importGraph(files: readonly string[], options: ts.CompilerOptions): Map<string, string[]> {
  const members = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = moduleSpecifiers(file)
      .map((specifier) => ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule?.resolvedFileName)
      .filter((target): target is string => target !== undefined && members.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The cycles a depth-first walk meets, one per edge back to a module still open on its path, each as
 * the path around it (first module repeated at the end). Empty exactly when the graph has no cycle.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const walk = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) walk(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) walk(node);
  return cycles;
}

/** The TypeScript modules below `dir`, as absolute paths (as the compiler resolves them). */
const modulesIn = (dir: string) => typeScriptModules(dir).map((module) => join(dir, module));

const named = (cycle: string[]) => cycle.map((f) => relative(ROOT, f).split(sep).join("/")).join(" → ");

describe("import cycles", () => {
  const options = compilerOptions();

  it("src/ has none, type-only imports included", () => {
    const graph = importGraph(modulesIn(join(ROOT, "src")), options);
    expect(findCycles(graph).map(named)).toEqual([]);
  });

  it("reads src/'s imports (the graph has the edges the code has)", () => {
    const graph = importGraph(modulesIn(join(ROOT, "src")), options);
    const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => named([from, to])));
    expect(edges).toEqual(
      expect.arrayContaining(["src/index.ts → src/handler.ts", "src/handler.ts → src/authorizer.ts", "src/local/issuer.ts → src/local/tokens.ts", "src/local/sender.ts → src/dpop.ts"]),
    );
  });

  describe("the check itself, on modules written for it", () => {
    let base: string;
    /** Writes `files` into a fresh folder and returns the cycles found among them. */
    const cyclesAmong = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(base, "case-"));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      return findCycles(importGraph(modulesIn(dir), options)).map((cycle) => cycle.map((f) => relative(dir, f)).join(" → "));
    };
    beforeAll(() => {
      base = mkdtempSync(join(tmpdir(), "import-cycles-"));
    });
    afterAll(() => rmSync(base, { recursive: true, force: true }));

    it.each<[string, Record<string, string>]>([
      ["import type", { "a.ts": 'import type { B } from "./b";\nexport type A = B;\n', "b.ts": 'import { a } from "./a";\nexport type B = string;\nexport const b = a;\n' }],
      ["export type … from", { "a.ts": 'export type { B } from "./b";\nexport const a = 1;\n', "b.ts": 'import { a } from "./a";\nexport type B = typeof a;\n' }],
      ["an import() type", { "a.ts": 'export type B = import("./b").B;\n', "b.ts": 'import type { B as A } from "./a";\nexport type B = A | 1;\n' }],
      ["require() and import()", { "a.ts": 'export const load = () => import("./b");\n', "b.ts": 'export const a = require("./a");\n' }],
    ])("finds a cycle made with %s", (_case, files) => {
      expect(cyclesAmong(files)).toEqual(["a.ts → b.ts → a.ts"]);
    });

    it("finds a longer cycle and a module importing itself, and no cycle where there is none", () => {
      expect(cyclesAmong({ "a.ts": 'import "./b";\n', "b.ts": 'import "./c";\n', "c.ts": 'import "./a";\n' })).toEqual(["a.ts → b.ts → c.ts → a.ts"]);
      expect(cyclesAmong({ "a.ts": 'export * from "./a";\n' })).toEqual(["a.ts → a.ts"]);
      expect(cyclesAmong({ "a.ts": 'import "./b";\nimport "./c";\n', "b.ts": 'import "./c";\n', "c.ts": 'import "node:fs";\n' })).toEqual([]);
    });
  });
});
