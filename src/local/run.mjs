// Launcher for the local tools (`npm start`, `npm run token`, `npm run events`, the compose issuer):
// runs src/local/cli.ts through scripts/run-ts.mjs (esbuild, a dev dependency already used by
// `npm run build`), so plain `node` can run the TypeScript sources. Prints nothing itself.
import { runTs } from "../../scripts/run-ts.mjs";

await runTs("src/local/cli.ts", "jwt-authorizer-local");
