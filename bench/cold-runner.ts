/**
 * One cold start: load a bundle in this fresh process and answer one event, then exit at once.
 *   node cold-runner.cjs <bundle.js> <event.json>
 * The parent times the whole process (spawn → exit) against `node -e 0`; this process also reports,
 * on fd 3, its own view: ms to load the bundle and ms to answer the first event.
 */
import { readFileSync, writeSync } from "node:fs";
import { loadBundle } from "../test/support/bundle";
import { blockingStdio, lambdaContext, verdictOf } from "./lib";

const [bundle, eventFile] = process.argv.slice(2);
blockingStdio();
const event: unknown = JSON.parse(readFileSync(eventFile, "utf8"));
// process.hrtime, not `performance`: that global loads perf_hooks, which would be harness cost.
const ms = () => Number(process.hrtime.bigint()) / 1e6;
const t0 = ms();
const { handler } = loadBundle(bundle);
const t1 = ms();
handler(event, lambdaContext("cold-start"))
  .then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  .then((outcome) => {
    const t2 = ms();
    writeSync(3, JSON.stringify({ loadMs: t1 - t0, firstAnswerMs: t2 - t1, verdict: verdictOf(outcome) }));
    process.exit(0);
  });
