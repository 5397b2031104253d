/**
 * Peak memory: make <n> decisions in this fresh process, one per event-loop turn (TOKEN events, cycling through a pool of
 * distinct valid tokens), report the peak RSS on fd 3 and exit. <subject> is a bundle to load, or
 * `floor` for the floor of bench/floor.ts (crypto + one log line + one EMF flush), which loads none.
 *   node memory-runner.cjs <bundle.js | floor> <tokens.json> <n>
 */
import { createPublicKey } from "node:crypto";
import { readFileSync, writeSync } from "node:fs";
import { loadBundle } from "../test/support/bundle";
import { blockingStdio, eventFor, eventTemplate, lambdaContext, verdictOf } from "./lib";

async function main(): Promise<void> {
  blockingStdio();
  const [subject, tokensFile, count] = process.argv.slice(2);
  const { jwk, tokens } = JSON.parse(readFileSync(tokensFile, "utf8")) as { jwk: Record<string, string>; tokens: string[] };
  const n = Number(count);
  const template = eventTemplate("token");
  let decide: (i: number) => Promise<unknown>;
  if (subject === "floor") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createFloor } = require("./floor") as typeof import("./floor");
    const floor = createFloor(createPublicKey({ key: jwk, format: "jwk" }), true);
    decide = async (i) => floor(tokens[i % tokens.length]);
  } else {
    const { handler } = loadBundle(subject);
    decide = (i) => handler(eventFor(template, "token", tokens[i % tokens.length]), lambdaContext(`mem-${i}`));
  }
  const verdicts: Record<string, number> = {};
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let outcome: { value?: unknown; error?: unknown };
    try {
      outcome = { value: await decide(i) };
    } catch (error) {
      outcome = { error };
    }
    const v = subject === "floor" ? (outcome.error ? "Error" : "Allow") : verdictOf(outcome);
    verdicts[v] = (verdicts[v] ?? 0) + 1;
    // Back to the event loop between decisions, for both subjects, as the Lambda runtime is while it
    // fetches the next event: Node finishes each decision's stdout writes there (their callbacks run
    // on the next tick). A loop that never yields would hold every decision's written records.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  writeSync(3, JSON.stringify({ peakRssKB: usage.maxRSS, decisions: n, seconds, verdicts }));
  process.exit(0);
}
void main();
