/**
 * A small reader for this repository's Dockerfile: enough of the syntax (comments, line
 * continuations, JSON and shell forms, COPY flags, ${VAR} expansion) to check what the image does.
 */
import { posix } from "node:path";

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name?: string;
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export interface Copy {
  readonly from?: string;
  readonly sources: readonly string[];
  readonly dest: string;
}

export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i += 1;
      if (/^\s*#/.test(lines[i])) continue;
      line = line.replace(/\\\s*$/, " ") + lines[i].trim();
    }
    const match = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`line ${start + 1}: cannot read "${line}"`);
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start + 1 });
  }
  const stages: { name?: string; from: string; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from, ...(as?.toUpperCase() === "AS" ? { name } : {}), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** CMD/ENTRYPOINT/RUN arguments: the JSON (exec) form as a list, the shell form as one string. */
export function execForm(args: string): string[] {
  if (args.startsWith("[")) return JSON.parse(args) as string[];
  return [args];
}

export function expand(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = a ?? b ?? "";
    const v = env[name];
    if (v === undefined) throw new Error(`\${${name}} is not defined in the stage`);
    return v;
  });
}

export function parseCopy(args: string, env: Readonly<Record<string, string>>): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  const rest: string[] = [];
  for (const word of words) {
    if (word.startsWith("--from=")) from = word.slice("--from=".length);
    else if (!word.startsWith("--")) rest.push(expand(word, env));
  }
  const dest = rest.pop();
  if (!dest || rest.length === 0) throw new Error(`COPY needs sources and a destination: ${args}`);
  return { ...(from ? { from } : {}), sources: rest, dest };
}

/** Where a copied source lands: `dest/` (or several sources) means "into that directory". */
export function copyTarget(copy: Copy, source: string, workdir: string): string {
  const dest = posix.isAbsolute(copy.dest) ? copy.dest : posix.join(workdir, copy.dest);
  const intoDir = copy.dest.endsWith("/") || copy.sources.length > 1;
  return intoDir ? posix.join(dest, posix.basename(source)) : dest;
}
