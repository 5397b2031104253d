// Launcher for the local tools (`npm start`, `npm run token`, `npm run events`, the compose issuer):
// bundles src/local/cli.ts with esbuild (a dev dependency, already used by `npm run build`) into
// node_modules/.cache and runs it, so plain `node` can run the TypeScript sources. Prints nothing itself.
import { build } from "esbuild";
import { mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "node_modules", ".cache", "jwt-authorizer-local");
const outFile = join(outDir, "cli.cjs");
const tmpFile = join(outDir, `cli.${process.pid}.cjs`);
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(root, "src", "local", "cli.ts")],
  outfile: tmpFile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "inline",
  logLevel: "error",
});
renameSync(tmpFile, outFile);
const { main } = createRequire(import.meta.url)(outFile);
process.exitCode = await main(process.argv.slice(2));
