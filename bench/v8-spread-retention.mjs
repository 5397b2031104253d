// Reproduces, without any library, the V8 behaviour that scripts/logger-patch.cjs works around:
// on Node 20 (V8 11.3), objects built as `{ ...source, key: value }` survive young-generation
// collections (and are promoted to the old generation) although nothing references them.
//
//   node bench/v8-spread-retention.mjs
//
// Each shape runs in its own child process with --trace-gc-nvp, creating 1,200,000 short-lived objects
// from the same 4-property source; the figure is the bytes V8 promoted, summed over its scavenges.
// Object.assign into a new object (what the patch uses) is the baseline of the same run.
import { spawnSync } from "node:child_process";

const COUNT = 1_200_000;
const SHAPES = {
  "Object.assign({}, source, { key })": "Object.assign({}, source, { key: i })",
  "{ ...source, key } (Powertools' Logger)": "({ ...source, key: i })",
  "{ ...source }": "({ ...source })",
  "{ key, ...source }": "({ key: i, ...source })",
};

function promotedBytes(expression) {
  const program = `
    const source = { awsRegion: "eu-west-1", environment: "", sampleRateValue: 0, serviceName: "svc" };
    let n = 0;
    function make(i) { const o = ${expression}; return o.awsRegion.length; }
    for (let i = 0; i < ${COUNT}; i++) n += make(i);
    if (n === 0) console.error("unreachable");`;
  const run = spawnSync(process.execPath, ["--trace-gc-nvp", "-e", program], { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`child failed: ${run.stderr}`);
  let promoted = 0;
  let scavenges = 0;
  for (const line of run.stdout.split("\n")) {
    if (!line.includes("gc=s ")) continue;
    scavenges++;
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return { promoted, scavenges };
}

console.log(`node ${process.version}, V8 ${process.versions.v8}: ${COUNT.toLocaleString("en-US")} short-lived objects per shape`);
const results = Object.entries(SHAPES).map(([name, expression]) => ({ name, ...promotedBytes(expression) }));
const baseline = results[0].promoted;
for (const { name, promoted, scavenges } of results) {
  const ratio = baseline > 0 ? `${(promoted / baseline).toFixed(1)}×` : promoted > 0 ? "∞× (baseline promoted nothing)" : "1×";
  console.log(`${name.padEnd(42)} promoted ${(promoted / 1024 / 1024).toFixed(2).padStart(8)} MB over ${String(scavenges).padStart(3)} scavenges; vs baseline ${ratio}`);
}
