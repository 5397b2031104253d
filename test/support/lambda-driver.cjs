// Child-process driver for the built bundle (test/support/lambda-process.ts), closer to the Lambda runtime than a plain require:
// module-scope init runs under this process's env (as at a cold start), and before each invocation
// the runtime's per-invocation _X_AMZN_TRACE_ID is set, so the Powertools Tracer / aws-xray-sdk
// emits real subsegments to AWS_XRAY_DAEMON_ADDRESS.
// Plain Node with no TypeScript step, so it requires the bundle itself; in-process loaders use bundle.ts.
"use strict";
const { handler } = require(process.argv[2]);

let sampled = 0;
setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage.rss());
}, 2).unref();
process.on("message", async ({ id, event, traceId, context: contextFields, probe }) => {
  if (probe === "tracer") {
    // Whether the Powertools Tracer (aws-xray-sdk-core) was loaded: it sets AWS_XRAY_CONTEXT_MISSING.
    process.send({ id, result: { tracerLoaded: process.env.AWS_XRAY_CONTEXT_MISSING !== undefined } });
    return;
  }
  if (probe === "memory") {
    // Current and peak resident set of this process, in bytes (maxRSS is reported in KiB), and the
    // highest resident set sampled every 2 ms since the previous probe (the process-wide peak cannot
    // be reset, so a peak from loading the bundle would hide any later growth below it).
    const rss = process.memoryUsage.rss();
    process.send({ id, result: { maxRss: process.resourceUsage().maxRSS * 1024, rss, sampledMax: Math.max(sampled, rss) } });
    sampled = rss;
    return;
  }
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  // The context's fields come from the parent (test/support/capture.ts lambdaContext); its functions cannot cross IPC.
  const context = { ...contextFields, getRemainingTimeInMillis: () => 5000, done() {}, fail() {}, succeed() {} };
  try {
    const result = await handler(event, context);
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: { message: err.message, type: err.constructor.name, keys: Object.keys(err) } });
  }
});
process.send({ ready: true });
