/**
 * The cheap relatives of `npm run loadtest`, so that npm test guards them too:
 *  - a 2-second smoke run of the same load test through the local stack (127.0.0.1);
 *  - memory is steady: the heap after a forced GC does not grow over thousands of warm invocations.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { formatReport, runLoadTest } from "../support/loadtest";
import { captureOutput } from "../support/capture";
import { fakeContext, startHarness } from "./support/harness";
import { eventFor, type EventName } from "../support/events";
import { cognitoAccessClaims, nowSeconds } from "../support/keys";

test("load smoke (2 s per phase, 20 connections): every answer right, no 5xx on valid tokens", async () => {
  const report = await runLoadTest({ durationSeconds: 2, connections: 20 });
  const text = formatReport(report);
  expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
  expect(report.phases.map((p) => p.phase)).toEqual(["invoke", "gateway"]);
  for (const p of report.phases) {
    expect(p.requests).toBeGreaterThan(100);
    expect(p.wrongDecisions).toBe(0);
    expect(p.validFiveXx).toBe(0);
    // Every class was exercised.
    for (const tally of Object.values(p.perClass)) expect(tally.sent).toBeGreaterThan(10);
  }
  expect(text).toContain("RESULT: PASS");
}, 60_000);

test("heap after GC stays flat over 15,000 warm invocations (no per-invocation retention)", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const output = captureOutput({ retain: false });
  const h = await startHarness({ output });
  try {
    const valid = h.sign(cognitoAccessClaims(), h.trusted);
    const expired = h.sign(cognitoAccessClaims({ exp: nowSeconds() - 60 }), h.trusted);
    const forged = h.sign(cognitoAccessClaims(), h.attacker, { kid: h.trusted.kid });
    const kinds: EventName[] = ["token", "request", "http-api"];
    const events = kinds.flatMap((k) => [eventFor(k, valid), eventFor(k, valid, "POST /pets"), eventFor(k, expired), eventFor(k, forged)]);
    const context = fakeContext();
    const round = async (n: number) => {
      for (let i = 0; i < n; i += 1) {
        await h.handler(events[i % events.length], context).catch(() => undefined);
        // Between real invocations the event loop turns (I/O); without this, process.nextTick
        // callbacks of the log writes pile up and look like a leak.
        if (i % 10 === 0) await nextTurn();
      }
      gc();
      gc();
      return process.memoryUsage().heapUsed / 1024 / 1024;
    };
    await round(5000); // warm-up: JIT, caches, lazily created objects
    const baseline = await round(5000);
    const after = await round(15000);
    process.stderr.write(`\n[security] heap after GC: ${baseline.toFixed(2)} MB → ${after.toFixed(2)} MB over 15,000 more invocations\n`);
    // Measured noise is ~0.05 MB; retaining even one small object per invocation (~70 bytes) adds ~1 MB.
    expect(after - baseline).toBeLessThan(0.5);
  } finally {
    await h.close();
    output.stop();
  }
}, 60_000);
