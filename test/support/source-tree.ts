/** The TypeScript modules of a source folder, for the layout tests (test/build/layout.test.ts, import-cycles.test.ts). */
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** Every .ts module below `dir`, subfolders included and declaration files left out, relative to `dir` with `/`, sorted. */
export function typeScriptModules(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
}
