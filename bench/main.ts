/**
 * `npm run bench`: the whole benchmark in one run, every figure beside its baseline from the same
 * run. Prints a table and writes a JSON summary to bench/results/. See docs/performance.md.
 *
 * This orchestrating process serves the HTTPS key set and drains the children's log pipes; when the
 * machine has a second core it keeps to core 1, and every measured process runs on core 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { build } from "esbuild";
import { startJwksServer } from "../test/helpers/jwks-server";
import { cognitoAccessClaims, generateKey, signJwt, type TestKey } from "../test/helpers/keys";
import { type GatewayResult, gatewayCacheEfficiency } from "./gateway-cache";
import { authorizerEnv, BUILD_DIR, eventFor, eventTemplate, REPO_ROOT, RESULTS_DIR, type Stat, stat } from "./lib";
import type { ScenarioName, SerializedKey, WorkerResult, WorkerStart } from "./throughput-worker";

const QUICK = process.env.BENCH_QUICK === "1";
const SETTINGS = {
  throughputRounds: QUICK ? 3 : 9,
  opsPerRound: QUICK ? 300 : 1600,
  coldRounds: QUICK ? 4 : 41,
  memoryRounds: QUICK ? 1 : 3,
  memoryDecisions: QUICK ? 10_000 : 100_000,
  memoryTokenPool: QUICK ? 200 : 2000,
  gatewayRequests: 1000,
};
const TARGETS = {
  allowVsFloor: 0.8,
  garbageVsFloor: 2,
  bundleKB: 180,
  coldDeltaVsReference: 0.8,
  peakRssVsReference: 1.2,
  warmJwksRequests: 0,
};

/** BENCH_ONLY=rates,cold,memory,gateway runs only those parts (for iterating; a full run has them all). */
const ONLY = process.env.BENCH_ONLY?.split(",").map((p) => p.trim());
const wanted = (part: string) => !ONLY || ONLY.includes(part);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Pinning

const canPin = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
const cores = availableParallelism();
if (canPin && cores > 1) spawnSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
/** argv for a measured process: on core 0 when taskset is available. */
const pinned = (args: string[]): [string, string[]] => (canPin ? ["taskset", ["-c", "0", ...args]] : [args[0], args.slice(1)]);

/** Reads a pipe to the end, counting lines that contain each marker (log lines stay out of the terminal). */
function drain(stream: Readable | null, markers: Record<string, string> = {}): { counts: Record<string, number>; bytes: number } {
  const result = { counts: Object.fromEntries(Object.keys(markers).map((k) => [k, 0])) as Record<string, number>, bytes: 0 };
  let tail = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    result.bytes += chunk.length;
    const text = tail + chunk;
    const lines = text.split("\n");
    tail = lines.pop() ?? "";
    for (const line of lines) for (const [k, m] of Object.entries(markers)) if (line.includes(m)) result.counts[k] += 1;
  });
  return result;
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Runs a measured process to its end (bounded by `timeoutMs`), returning wall ms and its fd-3 report. */
async function runTimed(args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ ms: number; report?: unknown; stderr: string }> {
  const [cmd, argv] = pinned(args);
  const started = process.hrtime.bigint();
  const child = spawn(cmd, argv, { env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  drain(child.stdout);
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));
  let report = "";
  (child.stdio[3] as Readable).on("data", (c: Buffer) => (report += c.toString("utf8")));
  const code = await exited(child);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearTimeout(timer);
  await new Promise((r) => setImmediate(r));
  if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}: ${stderr}`);
  return { ms, report: report ? JSON.parse(report) : undefined, stderr };
}

// ---------------------------------------------------------------------------------------------

const serialize = (key: TestKey): SerializedKey => ({
  kid: key.kid,
  pem: key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  jwk: key.jwk,
});

/** The reference bundle, built like dist/index.js (one minified CommonJS file for node20). */
async function buildReference(): Promise<{ file: string; bytes: number }> {
  const file = join(BUILD_DIR, "reference", "index.js");
  const result = await build({
    entryPoints: [join(REPO_ROOT, "bench", "reference", "handler.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? statSync(file).size;
  return { file, bytes };
}

interface Row {
  figure: string;
  unit: string;
  value: Stat;
  baseline?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

function fmt(n: number): string {
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function table(rows: Row[]): string {
  const head = ["Figure", "Median", "Min – max", "Rounds", "Baseline (same run)", "Ratio", "Target", "Met"];
  const body = rows.map((r) => [
    r.figure,
    `${fmt(r.value.median)} ${r.unit}`,
    r.value.rounds > 1 ? `${fmt(r.value.min)} – ${fmt(r.value.max)}` : "",
    String(r.value.rounds),
    r.baseline ?? "",
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.target ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const lines = [head, head.map(() => "---"), ...body];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

async function main(): Promise<void> {
  const startedAt = new Date();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const bundle = process.env.BENCH_BUNDLE || join(REPO_ROOT, "dist", "index.js");
  const bundleBytes = statSync(bundle).size;
  log(`pinned to one core: ${canPin ? "yes (taskset -c 0)" : "NO (taskset not available)"}; cores: ${cores}; quick: ${QUICK}`);

  const known = generateKey("bench-key-1");
  const unknown = generateKey("bench-key-unknown");
  const jwks = await startJwksServer([known.jwk]);
  const env = authorizerEnv(jwks.jwksUri, jwks.tls.caFile);
  const reference = await buildReference();
  const rows: Row[] = [];
  const summary: Record<string, unknown> = {
    startedAt: startedAt.toISOString(),
    node: process.version,
    pinnedToOneCore: canPin,
    cores,
    settings: SETTINGS,
    targets: TARGETS,
  };

  try {
    // ------------------------------------------------------------------ decision rates
    if (wanted("rates")) {
      log(`decision rates: ${SETTINGS.throughputRounds} rounds × ${SETTINGS.opsPerRound} decisions per scenario`);
      // BENCH_CPU_PROF=1 writes a V8 CPU profile of this process to bench/results/profiles/ (open it in
      // Chrome DevTools); BENCH_BUNDLE=<file> measures another build of the handler (e.g. unminified).
      const profile = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", `--cpu-prof-dir=${join(RESULTS_DIR, "profiles")}`] : [];
      const [cmd, argv] = pinned([process.execPath, ...profile, join(BUILD_DIR, "throughput-worker.cjs")]);
      const workerEnv: Record<string, string> = { ...env };
    for (const name of ["BENCH_BUNDLE", "BENCH_SCENARIOS"]) if (process.env[name]) workerEnv[name] = process.env[name] as string;
      const worker = spawn(cmd, argv, { env: workerEnv, stdio: ["ignore", "pipe", "pipe", "ipc"] });
      const closed = new Promise((resolve) => worker.once("close", resolve));
      const out = drain(worker.stdout, { decisionLines: '"message":"decision"', emf: '"Namespace":"JwtAuthorizer"', floorLines: '"message":"floor"', floorEmf: '"Namespace":"BenchFloor"' });
      const err = drain(worker.stderr, { decisionLines: '"message":"decision"', emf: '"Namespace":"JwtAuthorizer"' });
      const deadline = setTimeout(() => worker.kill("SIGKILL"), 10 * 60_000);
      const workerResult = await new Promise<WorkerResult>((resolve, reject) => {
        worker.on("message", (m: { type: string; message?: string }) => {
          if (m.type === "jwks?") worker.send({ type: "jwks", count: jwks.requests });
          else if (m.type === "result") resolve(m as unknown as WorkerResult);
          else if (m.type === "error") reject(new Error(`throughput worker: ${m.message}`));
        });
        worker.on("exit", (code) => reject(new Error(`throughput worker exited ${code}`)));
        const start: WorkerStart = {
          type: "start",
          rounds: SETTINGS.throughputRounds,
          ops: SETTINGS.opsPerRound,
          keys: { known: serialize(known), unknown: serialize(unknown) },
        };
        worker.send(start);
      });
      // 'close' (not 'exit'): every byte of its log pipes has been read and counted.
    await closed;
      clearTimeout(deadline);
      const s = workerResult.scenarios;
      const rate = (name: ScenarioName) => stat(s[name].rates);
      const floor = rate("floor");
      // The ratio is the median over rounds of (this scenario's rate / the floor's rate in that round):
      // both ran interleaved within the round, so machine noise largely cancels.
      const perRound = (name: ScenarioName) => s[name].rates.map((r, i) => r / s.floor.rates[i]);
      const vsFloor = (name: ScenarioName) => stat(perRound(name)).median;
      const labels: [ScenarioName, string, number | undefined][] = [
        ["crypto", "Crypto alone: split + base64url-decode signature + crypto.verify (RS256, prepared key)", undefined],
        ["floor", "Floor: crypto + one Powertools log line + one EMF flush of one metric", undefined],
        ["allowRequest", "Shipped handler, REQUEST event, fresh token → Allow", TARGETS.allowVsFloor],
        ["allowToken", "Shipped handler, TOKEN event, fresh token → Allow", TARGETS.allowVsFloor],
        ["garbage", "Rejected: garbage token → 401 (Invalid)", TARGETS.garbageVsFloor],
        ["expired", "Rejected: expired token → 401 (Expired)", undefined],
        ["unknownKid", "Rejected: unknown kid, key set cached → 401 (Invalid)", undefined],
        ["forbidden", "Rejected: valid token, forbidden route → 403 (Deny)", undefined],
      ];
      for (const [name, figure, target] of labels) {
        if (s[name].rates.length === 0) continue; // narrowed with BENCH_SCENARIOS
        rows.push({
          figure,
          unit: "/s",
          value: rate(name),
          baseline: name === "floor" ? "(the baseline)" : `floor ${fmt(floor.median)} /s`,
          ratio: name === "floor" ? 1 : vsFloor(name),
          ...(target !== undefined ? { target: `≥ ${target.toFixed(2)}× floor`, met: vsFloor(name) >= target } : {}),
        });
      }
      const warmJwks = (["allowRequest", "allowToken", "garbage", "expired", "forbidden"] as ScenarioName[]).reduce((n, k) => n + s[k].jwksRequests, 0);
      const logLines = out.counts.decisionLines + err.counts.decisionLines;
      const emfLines = out.counts.emf + err.counts.emf;
      summary.decisionRates = {
        scenarios: Object.fromEntries(
          Object.entries(s).filter(([, v]) => v.rates.length > 0).map(([k, v]) => [k, { ...stat(v.rates), microsecondsPerDecision: 1e6 / stat(v.rates).median, ratioToFloor: stat(perRound(k as ScenarioName)), decisions: v.decisions, verdicts: v.verdicts, jwksRequests: v.jwksRequests }]),
        ),
        handlerInvocations: workerResult.handlerInvocations,
        decisionLogLines: logLines,
        emfRecords: emfLines,
        floorDecisions: workerResult.floorDecisions,
        floorLogLines: out.counts.floorLines,
        floorEmfRecords: out.counts.floorEmf,
        logBytes: out.bytes + err.bytes,
      };
      // One decision line per invocation; one EMF record per invocation plus the single ColdStart record.
      if (logLines !== workerResult.handlerInvocations || emfLines !== workerResult.handlerInvocations + 1) {
        throw new Error(`expected ${workerResult.handlerInvocations} decision lines and ${workerResult.handlerInvocations + 1} EMF records, got ${logLines} and ${emfLines}`);
      }
      rows.push({
        figure: "JWKS requests during warm calls (Allow, Deny, Expired, garbage)",
        unit: "",
        value: stat([warmJwks]),
        baseline: `unknown kid: ${s.unknownKid.jwksRequests} (penalty box: ≤ 1 per 10 s)`,
        target: "0",
        met: warmJwks === TARGETS.warmJwksRequests,
      });
      summary.jwksRequests = { warmCalls: warmJwks, unknownKidPhase: s.unknownKid.jwksRequests, total: jwks.requests };
    }

    // ------------------------------------------------------------------ cold start
    if (wanted("cold")) {
      log(`cold start: ${SETTINGS.coldRounds} rounds of node -e 0 / dist/index.js / reference`);
      const token = signJwt(cognitoAccessClaims(), known);
      const eventFile = join(RESULTS_DIR, "cold-event.json");
      writeFileSync(eventFile, JSON.stringify(eventFor(eventTemplate("request"), "request", token)));
      const coldRunner = join(BUILD_DIR, "cold-runner.cjs");
      const coldProfile = (name: string) =>
        process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${join(RESULTS_DIR, "profiles", `cold-${name}`)}`] : [];
      const subjects = {
        baseline: [process.execPath, "-e", "0"],
        ours: [process.execPath, ...coldProfile("ours"), coldRunner, bundle, eventFile],
        reference: [process.execPath, ...coldProfile("reference"), coldRunner, reference.file, eventFile],
      };
      const cold = { baseline: [] as number[], ours: [] as number[], reference: [] as number[], oursDelta: [] as number[], referenceDelta: [] as number[] };
      const inside = { ours: [] as { loadMs: number; firstAnswerMs: number; verdict: string }[], reference: [] as { loadMs: number; firstAnswerMs: number; verdict: string }[] };
      const keys = Object.keys(subjects) as (keyof typeof subjects)[];
      for (let round = -1; round < SETTINGS.coldRounds; round++) {
        const times: Record<string, number> = {};
        for (let i = 0; i < keys.length; i++) {
          const k = keys[(i + Math.max(round, 0)) % keys.length];
          const r = await runTimed(subjects[k], env, 30_000);
          times[k] = r.ms;
          if (k !== "baseline") {
            const report = r.report as { loadMs: number; firstAnswerMs: number; verdict: string };
            if (report?.verdict !== "Allow") throw new Error(`cold start of ${k} answered ${report?.verdict}: ${r.stderr}`);
            if (round >= 0) inside[k].push(report);
          }
        }
        if (round < 0) continue; // the first round warms the file cache
        cold.baseline.push(times.baseline);
        cold.ours.push(times.ours);
        cold.reference.push(times.reference);
        cold.oursDelta.push(times.ours - times.baseline);
        cold.referenceDelta.push(times.reference - times.baseline);
      }
      // Δ = median process time − median `node -e 0` time (pairing rounds would add both processes'
      // noise); min – max come from the per-round differences.
      const delta = (samples: number[], perRound: number[]): Stat => ({
        ...stat(perRound),
        median: stat(samples).median - stat(cold.baseline).median,
      });
      const oursDelta = delta(cold.ours, cold.oursDelta);
      const refDelta = delta(cold.reference, cold.referenceDelta);
      const inProcess = (k: "ours" | "reference") => stat(inside[k].map((r) => r.loadMs + r.firstAnswerMs));
      const bundleKB = bundleBytes / 1024;
      rows.push({
        figure: "Bundle size, dist/index.js (minified)",
        unit: "KB",
        value: stat([bundleKB]),
        baseline: `reference bundle ${fmt(reference.bytes / 1024)} KB`,
        ratio: bundleBytes / reference.bytes,
        target: `≤ ${TARGETS.bundleKB} KB`,
        met: bundleKB <= TARGETS.bundleKB,
      });
      rows.push({
        figure: "Cold start Δ: load dist/index.js + answer one event, minus `node -e 0`",
        unit: "ms",
        value: oursDelta,
        baseline: `reference Δ ${fmt(refDelta.median)} ms (node -e 0: ${fmt(stat(cold.baseline).median)} ms)`,
        ratio: oursDelta.median / refDelta.median,
        target: `≤ ${TARGETS.coldDeltaVsReference}× reference Δ`,
        met: oursDelta.median / refDelta.median <= TARGETS.coldDeltaVsReference,
      });
      rows.push({ figure: "Cold start Δ of the reference bundle", unit: "ms", value: refDelta, baseline: "(the baseline)" });
      rows.push({
        figure: "Cold start seen from inside the process: require(bundle) + first answer",
        unit: "ms",
        value: inProcess("ours"),
        baseline: `reference ${fmt(inProcess("reference").median)} ms`,
        ratio: inProcess("ours").median / inProcess("reference").median,
      });
      summary.coldStart = {
        bundleBytes,
        bundleKB,
        referenceBytes: reference.bytes,
        referenceKB: reference.bytes / 1024,
        nodeE0Ms: stat(cold.baseline),
        oursMs: stat(cold.ours),
        referenceMs: stat(cold.reference),
        oursDeltaMs: oursDelta,
        referenceDeltaMs: refDelta,
        ratioToReference: oursDelta.median / refDelta.median,
        inProcess: {
          ours: { loadMs: stat(inside.ours.map((r) => r.loadMs)), firstAnswerMs: stat(inside.ours.map((r) => r.firstAnswerMs)), totalMs: inProcess("ours") },
          reference: { loadMs: stat(inside.reference.map((r) => r.loadMs)), firstAnswerMs: stat(inside.reference.map((r) => r.firstAnswerMs)), totalMs: inProcess("reference") },
        ratioToReference: inProcess("ours").median / inProcess("reference").median,
        },
      };
    }

    // ------------------------------------------------------------------ memory
    if (wanted("memory")) {
      log(`memory: ${SETTINGS.memoryRounds} rounds × ${SETTINGS.memoryDecisions} decisions, ours and the reference`);
      const tokensFile = join(RESULTS_DIR, "memory-tokens.json");
      writeFileSync(tokensFile, JSON.stringify(Array.from({ length: SETTINGS.memoryTokenPool }, (_, i) => signJwt(cognitoAccessClaims({ jti: `mem-${i}` }), known))));
      const memoryRunner = join(BUILD_DIR, "memory-runner.cjs");
      const mem = { ours: [] as number[], reference: [] as number[], oursRate: [] as number[], referenceRate: [] as number[] };
      for (let round = 0; round < SETTINGS.memoryRounds; round++) {
        for (const k of round % 2 ? (["reference", "ours"] as const) : (["ours", "reference"] as const)) {
          const file = k === "ours" ? bundle : reference.file;
          const r = await runTimed([process.execPath, memoryRunner, file, tokensFile, String(SETTINGS.memoryDecisions)], env, 5 * 60_000);
          const report = r.report as { peakRssKB: number; decisions: number; seconds: number; verdicts: Record<string, number> };
          if (report.verdicts.Allow !== SETTINGS.memoryDecisions) throw new Error(`memory run of ${k}: ${JSON.stringify(report.verdicts)}`);
          mem[k].push(report.peakRssKB / 1024);
          mem[k === "ours" ? "oursRate" : "referenceRate"].push(report.decisions / report.seconds);
        }
      }
      const rss = stat(mem.ours);
      const refRss = stat(mem.reference);
      rows.push({
        figure: `Peak RSS after ${SETTINGS.memoryDecisions.toLocaleString("en-US")} decisions`,
        unit: "MB",
        value: rss,
        baseline: `reference ${fmt(refRss.median)} MB`,
        ratio: rss.median / refRss.median,
        target: `≤ ${TARGETS.peakRssVsReference}× reference`,
        met: rss.median / refRss.median <= TARGETS.peakRssVsReference,
      });
      summary.memory = {
        decisions: SETTINGS.memoryDecisions,
        tokenPool: SETTINGS.memoryTokenPool,
        oursPeakRssMB: rss,
        referencePeakRssMB: refRss,
        ratioToReference: rss.median / refRss.median,
        oursDecisionsPerSecond: stat(mem.oursRate),
        referenceDecisionsPerSecond: stat(mem.referenceRate),
      };
    }

    // ------------------------------------------------------------------ gateway cache
    if (wanted("gateway")) {
      log(`gateway cache: ${SETTINGS.gatewayRequests} requests, one token, 10 permitted routes, TTL 300 s, keyed on token + method + path (local stack)`);
      let gateway: GatewayResult | { error: string };
      try {
        gateway = await gatewayCacheEfficiency(SETTINGS.gatewayRequests);
        rows.push({
          figure: `Gateway cache: authorizer invocations for ${gateway.requests} requests over ${gateway.routes} permitted routes, one token, one TTL`,
          unit: "",
          value: stat([gateway.authorizerInvocations]),
          baseline:
            `methodArn-only policy: ${gateway.methodArnOnlyInvocations}; token as the only cache key: ours ${gateway.tokenKeyedInvocations} ` +
            `with ${gateway.tokenKeyedWrong403s} wrong 403s, methodArn-only ${gateway.methodArnOnlyWrong403s} wrong 403s`,
          ratio: gateway.authorizerInvocations / gateway.methodArnOnlyInvocations,
          target: "one per route",
          met: gateway.authorizerInvocations === gateway.routes && gateway.statuses["200"] === gateway.requests,
        });
      } catch (e) {
        gateway = { error: (e as Error).stack ?? String(e) };
        log(`gateway cache part failed: ${(e as Error).message}`);
      }
      summary.gatewayCache = gateway;
    }
  } finally {
    await jwks.close();
  }

  summary.table = rows;
  summary.targetsMet = rows.filter((r) => r.met !== undefined).every((r) => r.met);
  summary.seconds = (Date.now() - startedAt.getTime()) / 1000;
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const file = join(RESULTS_DIR, `summary-${stamp}.json`);
  writeFileSync(file, JSON.stringify(summary, null, 2));
  writeFileSync(join(RESULTS_DIR, "latest.json"), JSON.stringify(summary, null, 2));
  process.stdout.write(`\n${table(rows)}\n\n`);
  process.stdout.write(`Pinned to one core: ${canPin ? "yes (taskset -c 0)" : "no — taskset not available"}. Node ${process.version}. ${summary.seconds} s.\n`);
  process.stdout.write(`JSON summary: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`[bench] failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
