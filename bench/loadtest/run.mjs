// `npm run loadtest`: runs test/support/loadtest.ts (the load generator the load smoke test shares) (through scripts/run-ts.mjs) against the local
// stack on 127.0.0.1. Needs dist/ (the npm script builds it first). Bounded: 1 s warm-up + two phases
// of --duration seconds (default 10).
import { runTs } from "../../scripts/run-ts.mjs";

await runTs("test/support/loadtest.ts", "jwt-authorizer-loadtest");
