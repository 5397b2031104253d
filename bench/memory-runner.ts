/**
 * Peak memory: load a bundle, make <n> decisions (REQUEST events, cycling through a pool of distinct
 * valid tokens), report the peak RSS on fd 3 and exit.
 *   node memory-runner.cjs <bundle.js> <tokens.json> <n>
 */
import { readFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { blockingStdio, eventFor, eventTemplate, type Handler, lambdaContext, verdictOf } from "./lib";

async function main(): Promise<void> {
  blockingStdio();
  const [bundle, tokensFile, count] = process.argv.slice(2);
  const tokens = JSON.parse(readFileSync(tokensFile, "utf8")) as string[];
  const n = Number(count);
  const template = eventTemplate("request");
  const { handler } = createRequire(__filename)(resolve(bundle)) as { handler: Handler };
  const verdicts: Record<string, number> = {};
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const event = eventFor(template, "request", tokens[i % tokens.length]);
    let outcome: { value?: unknown; error?: unknown };
    try {
      outcome = { value: await handler(event, lambdaContext(`mem-${i}`)) };
    } catch (error) {
      outcome = { error };
    }
    const v = verdictOf(outcome);
    verdicts[v] = (verdicts[v] ?? 0) + 1;
  }
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  writeSync(3, JSON.stringify({ peakRssKB: usage.maxRSS, decisions: n, seconds, verdicts }));
  process.exit(0);
}
void main();
