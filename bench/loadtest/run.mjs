// `npm run loadtest`: runs bench/loadtest/loadtest.ts (through scripts/run-ts.mjs) against the local
// stack on 127.0.0.1. Needs dist/ (the npm script builds it first). Bounded: 1 s warm-up + two phases
// of --duration seconds (default 10).
import { runTs } from "../../scripts/run-ts.mjs";

await runTs("bench/loadtest/loadtest.ts", "jwt-authorizer-loadtest");
