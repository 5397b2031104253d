/**
 * `npm run bench`: the whole benchmark in one run, every figure beside its baseline from the same
 * run. Prints a table and writes a JSON summary to bench/results/. See docs/performance.md.
 *
 * This orchestrating process serves the HTTPS key set and drains the children's log pipes; when the
 * machine has a second core it keeps to core 1, and every measured process runs on core 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { build } from "esbuild";
import { bundlePath } from "../test/support/bundle";
import { type JwksServer, startJwksServer } from "../test/support/jwks-server";
import { cognitoAccessClaims, generateKey, signJwt, type TestKey } from "../test/support/keys";
import { type GatewayResult, gatewayCacheEfficiency } from "./gateway-cache";
import { authorizerEnv, BUILD_DIR, eventFor, eventTemplate, REPO_ROOT, RESULTS_DIR, type Stat, stat } from "./lib";
import { CONTENDER_ENV, EXPECTED, type FromWorker, type ScenarioName, SCENARIOS, type SerializedKey, type ToWorker } from "./contenders";

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
/** Issue 12's targets. */
const TARGETS = {
  vsFloor: { allowToken: 0.8, allowRequest: 0.8, expired: 0.75, garbage: 1.4, dpopRequest: 0.4 },
  bundleKB: 180,
  coldDeltaVsReference: 0.7,
  coldDeltaVsReferenceTraced: 0.85,
  peakRssVsFloor: 1.15,
  warmJwksRequests: 0,
};
const LABELS: Record<ScenarioName, string> = {
  crypto: "Crypto alone: split + base64url-decode signature + crypto.verify (RS256, prepared key), no log, no metric",
  floor: "Floor: crypto + one Powertools Logger.info line + one EMF flush of one metric",
  allowToken: "Valid token, TOKEN event → Allow",
  allowRequest: "Valid token, REQUEST event → Allow",
  expired: "Expired (properly signed), TOKEN event → 401",
  garbage: "Garbage: three segments of random base64url characters, a real token's lengths, TOKEN event → 401",
  unknownKid: "Unknown kid (key set cached, penalty box), TOKEN event → 401",
  forbidden: "Valid token, forbidden route (POST /pets), TOKEN event → Deny",
  dpopRequest: "DPoP-bound token + a fresh ES256 proof, REQUEST event (BOUND_TOKENS=accept) → Allow (two signature checks)",
  dpopRequestRs256: "The same with an RS256 proof (both signature checks RS256, as the floor's), for scale",
};
/** Slices per contender and round. */
const SLICES = 8;
/** BENCH_SCENARIOS=floor,allowToken narrows the decision-rate part to those contenders. */
const SCENARIO_FILTER = process.env.BENCH_SCENARIOS?.split(",").map((p) => p.trim());

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

type ColdSubject = "baseline" | "ours" | "reference" | "oursTraced" | "referenceTraced";
interface InsideReport {
  loadMs: number;
  firstAnswerMs: number;
  verdict: string;
}

interface ContenderSummary {
  rates: number[];
  verdicts: Record<string, number>;
  handlerInvocations: number;
  floorDecisions: number;
  jwksRequests: number;
  logs: Record<string, number>;
}

/**
 * One contender of the decision-rate part in its own pinned process (bench/throughput-worker.ts),
 * stdout and stderr to pipes drained and counted here, driven over IPC one request at a time.
 */
function startContender(name: ScenarioName, env: Record<string, string>) {
  const profile = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", `--cpu-prof-dir=${join(RESULTS_DIR, "profiles")}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  const [cmd, argv] = pinned([process.execPath, ...profile, join(BUILD_DIR, "throughput-worker.cjs"), name]);
  const workerEnv: Record<string, string> = { ...env, ...CONTENDER_ENV[name] };
  if (process.env.BENCH_BUNDLE) workerEnv.BENCH_BUNDLE = process.env.BENCH_BUNDLE;
  const child = spawn(cmd, argv, { env: workerEnv, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const markers = { decisionLines: '"message":"decision"', emf: '"Namespace":"JwtAuthorizer"', floorLines: '"message":"floor"', floorEmf: '"Namespace":"BenchFloor"' };
  const out = drain(child.stdout, markers);
  const err = drain(child.stderr, markers);
  const closed = new Promise((resolve) => child.once("close", resolve));
  let pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  child.on("message", (m: FromWorker) => {
    if (process.env.BENCH_DEBUG) log(`${name} → ${JSON.stringify(m).slice(0, 120)}`);
    const p = pending;
    pending = undefined;
    if (m.type === "error") p?.reject(new Error(`${name}: ${m.message}`));
    else p?.resolve(m);
  });
  child.on("exit", (code) => {
    if (process.env.BENCH_DEBUG) log(`${name} exited ${code}`);
    pending?.reject(new Error(`contender ${name} exited ${code}`));
  });
  return {
    name,
    ask(message: ToWorker): Promise<FromWorker> {
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(message);
      });
    },
    /**
     * Tells it to exit and waits for 'close': every byte of its log pipes has then been read and
     * counted. (Not child.disconnect(): then Node never emits 'close' for a child with an IPC channel.)
     */
    async close(): Promise<void> {
      child.send({ type: "exit" } satisfies ToWorker);
      await closed;
    },
    logs: () => Object.fromEntries(Object.keys(markers).map((k) => [k, out.counts[k] + err.counts[k]])),
    kill: () => child.exitCode === null && child.kill("SIGKILL"),
  };
}

interface Row {
  figure: string;
  unit: string;
  value: Stat;
  baseline?: string;
  ratio?: number;
  /** The ratio's spread over rounds (decision rates: per-round ratio to the floor). */
  ratioRange?: Stat;
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
  const head = ["Figure", "Median", "Min – max", "Rounds", "Baseline (same run)", "Ratio", "Ratio min – max", "Target", "Met"];
  const body = rows.map((r) => [
    r.figure,
    `${fmt(r.value.median)} ${r.unit}`,
    r.value.rounds > 1 ? `${fmt(r.value.min)} – ${fmt(r.value.max)}` : "",
    String(r.value.rounds),
    r.baseline ?? "",
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.ratioRange ? `${r.ratioRange.min.toFixed(2)} – ${r.ratioRange.max.toFixed(2)}` : "",
    r.target ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const lines = [head, head.map(() => "---"), ...body];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** What every part of the bench is given. */
interface BenchContext {
  readonly env: Record<string, string>;
  readonly jwks: JwksServer;
  readonly known: TestKey;
  readonly unknown: TestKey;
  readonly bundle: string;
  readonly bundleFiles: readonly { name: string; bytes: number }[];
  readonly bundleBytes: number;
  readonly reference: { file: string; bytes: number };
}

/** What a part returns: its rows of the table and its section of the JSON summary. */
interface Part {
  readonly rows: Row[];
  readonly summary: Record<string, unknown>;
}

/** Decision rates of every contender against the floor, interleaved in rounds; JWKS requests during warm calls. */
async function ratesPart(ctx: BenchContext): Promise<Part> {
  const { env, jwks, known, unknown } = ctx;
  const rows: Row[] = [];
  const summary: Record<string, unknown> = {};
  const names = SCENARIOS.filter((n) => !SCENARIO_FILTER || SCENARIO_FILTER.includes(n));
  log(`decision rates: ${names.length} contenders, each in its own process; ${SETTINGS.throughputRounds} interleaved rounds × ${SETTINGS.opsPerRound} decisions`);
  const contenders = names.map((name) => startContender(name, env));
  try {
    const keys = { known: serialize(known), unknown: serialize(unknown) };
    await Promise.all(contenders.map((c) => c.ask({ type: "init", keys })));
    const rates = new Map(names.map((n) => [n, [] as number[]]));
    const jwksDuring = new Map(names.map((n) => [n, 0]));
    // Round 0 is the warm-up: JIT, the first invocation (with its ColdStart metric), the key-set prefetch.
    for (let round = 0; round <= SETTINGS.throughputRounds; round++) {
      const n = round === 0 ? Math.min(200, SETTINGS.opsPerRound) : SETTINGS.opsPerRound;
      // Inputs are minted by every contender at once, off the clock (they all wait for the slowest).
      await Promise.all(contenders.map((c) => c.ask({ type: "prepare", n, count: round > 0 })));
      const elapsed = new Map(names.map((name) => [name, 0]));
      // SLICES short slices per contender, in rotating order, one contender at a time on the
      // measured core: a burst of noise lands on every contender of the round alike.
      for (let slice = 0; slice < SLICES; slice++) {
        const from = Math.floor((slice * n) / SLICES);
        const to = Math.floor(((slice + 1) * n) / SLICES);
        for (let k = 0; k < contenders.length; k++) {
          const c = contenders[(k + slice + round) % contenders.length];
          const before = jwks.requests;
          const reply = await c.ask({ type: "run", from, to });
          if (reply.type !== "ran") throw new Error(`${c.name}: ${JSON.stringify(reply)}`);
          elapsed.set(c.name, (elapsed.get(c.name) as number) + reply.ms);
          if (round > 0) jwksDuring.set(c.name, (jwksDuring.get(c.name) as number) + jwks.requests - before);
        }
      }
      if (round > 0) for (const name of names) rates.get(name)?.push((n * 1000) / (elapsed.get(name) as number));
    }
    const reports = await Promise.all(contenders.map((c) => c.ask({ type: "verdicts" })));
    await Promise.all(contenders.map((c) => c.close()));
    const s = Object.fromEntries(
      names.map((name, i) => {
        const r = reports[i];
        if (r.type !== "verdicts") throw new Error(`${name}: ${JSON.stringify(r)}`);
        return [name, { rates: rates.get(name) as number[], ...r, jwksRequests: jwksDuring.get(name) as number, logs: contenders[i].logs() }];
      }),
    ) as unknown as Record<ScenarioName, ContenderSummary>;
    for (const name of names) {
      const wrong = Object.entries(s[name].verdicts).filter(([v]) => v !== EXPECTED[name]);
      if (wrong.length > 0) throw new Error(`${name}: expected every answer to be ${EXPECTED[name]}, got ${JSON.stringify(s[name].verdicts)}`);
      const { decisionLines, emf, floorLines, floorEmf } = s[name].logs;
      // One decision line per invocation; one EMF record per invocation plus the single ColdStart record.
      if (s[name].handlerInvocations > 0 && (decisionLines !== s[name].handlerInvocations || emf !== s[name].handlerInvocations + 1)) {
        throw new Error(`${name}: expected ${s[name].handlerInvocations} decision lines and ${s[name].handlerInvocations + 1} EMF records, got ${decisionLines} and ${emf}`);
      }
      if (name === "floor" && (floorLines !== s.floor.floorDecisions || floorEmf !== s.floor.floorDecisions)) {
        throw new Error(`floor: expected ${s.floor.floorDecisions} log lines and EMF records, got ${floorLines} and ${floorEmf}`);
      }
    }
    const rate = (name: ScenarioName) => stat(s[name].rates);
    const hasFloor = names.includes("floor");
    // The ratio is taken per round (this contender's rate / the floor's rate in that round: both ran
    // interleaved within the round, so machine noise largely cancels); median, min and max over rounds.
    const perRound = (name: ScenarioName) => (hasFloor ? stat(s[name].rates.map((r, i) => r / s.floor.rates[i])) : undefined);
    const floor = hasFloor ? rate("floor") : undefined;
    for (const name of names) {
      const target = TARGETS.vsFloor[name as keyof typeof TARGETS.vsFloor];
      const ratio = perRound(name);
      rows.push({
        figure: LABELS[name],
        unit: "/s",
        value: rate(name),
        baseline: name === "floor" ? "(the baseline)" : floor ? `floor ${fmt(floor.median)} /s` : "",
        ...(ratio && name !== "floor" ? { ratio: ratio.median, ratioRange: ratio } : name === "floor" ? { ratio: 1 } : {}),
        ...(target !== undefined && ratio ? { target: `≥ ${target.toFixed(2)}× floor`, met: ratio.median >= target } : {}),
      });
    }
    const warmNames = names.filter((n) => n !== "unknownKid");
    const warmJwks = warmNames.reduce((n, k) => n + s[k].jwksRequests, 0);
    summary.decisionRates = {
      contenders: Object.fromEntries(
        names.map((k) => [k, { ...stat(s[k].rates), microsecondsPerDecision: 1e6 / stat(s[k].rates).median, ratioToFloor: perRound(k), rounds: s[k].rates, verdicts: s[k].verdicts, jwksRequests: s[k].jwksRequests, handlerInvocations: s[k].handlerInvocations, logs: s[k].logs }]),
      ),
    };
    rows.push({
      figure: "JWKS requests during warm calls (every contender but unknown kid)",
      unit: "",
      value: stat([warmJwks]),
      baseline: names.includes("unknownKid") ? `unknown kid: ${s.unknownKid.jwksRequests} (penalty box: ≤ 1 per 10 s)` : "",
      target: "0",
      met: warmJwks === TARGETS.warmJwksRequests,
    });
    summary.jwksRequests = { warmCalls: warmJwks, unknownKidPhase: names.includes("unknownKid") ? s.unknownKid.jwksRequests : undefined, total: jwks.requests };
  } finally {
    for (const c of contenders) c.kill();
  }
  return { rows, summary };
}

/** Bundle size and cold start (load + first answer) against the reference, tracing off and on. */
async function coldStartPart(ctx: BenchContext): Promise<Part> {
  const { env, known, bundle, bundleFiles, bundleBytes, reference } = ctx;
  const rows: Row[] = [];
  const summary: Record<string, unknown> = {};
  log(`cold start: ${SETTINGS.coldRounds} rounds of node -e 0 / ours / reference, tracing off and on`);
  const token = signJwt(cognitoAccessClaims(), known);
  const eventFile = join(RESULTS_DIR, "cold-event.json");
  writeFileSync(eventFile, JSON.stringify(eventFor(eventTemplate("token"), "token", token)));
  const coldRunner = join(BUILD_DIR, "cold-runner.cjs");
  const coldProfile = (name: string) =>
    process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${join(RESULTS_DIR, "profiles", `cold-${name}`)}`] : [];
  // Tracing on: as in Lambda, where the runtime sets AWS_EXECUTION_ENV (no X-Ray daemon here; the
  // Tracer's UDP sends go nowhere, for both bundles alike).
  const traced = { ...env, POWERTOOLS_TRACE_ENABLED: "true", AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" };
  const subjects: Record<ColdSubject, { args: string[]; env: Record<string, string> }> = {
    baseline: { args: [process.execPath, "-e", "0"], env },
    ours: { args: [process.execPath, ...coldProfile("ours"), coldRunner, bundle, eventFile], env },
    reference: { args: [process.execPath, ...coldProfile("reference"), coldRunner, reference.file, eventFile], env },
    oursTraced: { args: [process.execPath, ...coldProfile("ours-traced"), coldRunner, bundle, eventFile], env: traced },
    referenceTraced: { args: [process.execPath, ...coldProfile("reference-traced"), coldRunner, reference.file, eventFile], env: traced },
  };
  const keys = Object.keys(subjects) as ColdSubject[];
  const wall = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<ColdSubject, number[]>;
  const deltas = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<ColdSubject, number[]>;
  const inside = Object.fromEntries(keys.map((k) => [k, [] as InsideReport[]])) as Record<ColdSubject, InsideReport[]>;
  for (let round = -1; round < SETTINGS.coldRounds; round++) {
    const times: Record<string, number> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + Math.max(round, 0)) % keys.length];
      const r = await runTimed(subjects[k].args, subjects[k].env, 30_000);
      times[k] = r.ms;
      if (k !== "baseline") {
        const report = r.report as InsideReport;
        if (report?.verdict !== "Allow") throw new Error(`cold start of ${k} answered ${report?.verdict}: ${r.stderr}`);
        if (round >= 0) inside[k].push(report);
      }
    }
    if (round < 0) continue; // the first round warms the file cache
    for (const k of keys) {
      wall[k].push(times[k]);
      deltas[k].push(times[k] - times.baseline);
    }
  }
  // Δ = median process time − median `node -e 0` time (pairing rounds would add both processes'
  // noise); min – max come from the per-round differences.
  const delta = (k: ColdSubject): Stat => ({ ...stat(deltas[k]), median: stat(wall[k]).median - stat(wall.baseline).median });
  const inProcess = (k: ColdSubject) => stat(inside[k].map((r) => r.loadMs + r.firstAnswerMs));
  const bundleKB = bundleBytes / 1024;
  rows.push({
    figure: `Bundle size: every file the function can load (${bundleFiles.map((f) => f.name).join(" + ")})`,
    unit: "KB",
    value: stat([bundleKB]),
    baseline: `reference bundle ${fmt(reference.bytes / 1024)} KB`,
    ratio: bundleBytes / reference.bytes,
    target: `≤ ${TARGETS.bundleKB} KB`,
    met: bundleKB <= TARGETS.bundleKB,
  });
  const coldRows: [ColdSubject, ColdSubject, string, number][] = [
    ["ours", "reference", "tracing off", TARGETS.coldDeltaVsReference],
    ["oursTraced", "referenceTraced", "tracing on (AWS_EXECUTION_ENV set)", TARGETS.coldDeltaVsReferenceTraced],
  ];
  const coldSummary: Record<string, unknown> = { nodeE0Ms: stat(wall.baseline) };
  for (const [ours, ref, label, target] of coldRows) {
    const o = delta(ours);
    const r = delta(ref);
    rows.push({
      figure: `Cold start Δ, ${label}: load + answer one TOKEN event (key set over loopback HTTPS), minus \`node -e 0\``,
      unit: "ms",
      value: o,
      baseline: `reference Δ ${fmt(r.median)} ms (${fmt(r.min)} – ${fmt(r.max)}; node -e 0: ${fmt(stat(wall.baseline).median)} ms)`,
      ratio: o.median / r.median,
      target: `≤ ${target}× reference Δ`,
      met: o.median / r.median <= target,
    });
    rows.push({
      figure: `Cold start inside the process, ${label}: require(bundle) + first answer`,
      unit: "ms",
      value: inProcess(ours),
      baseline: `reference ${fmt(inProcess(ref).median)} ms`,
      ratio: inProcess(ours).median / inProcess(ref).median,
    });
    coldSummary[ours] = {
      wallMs: stat(wall[ours]),
      deltaMs: o,
      referenceWallMs: stat(wall[ref]),
      referenceDeltaMs: r,
      ratioToReference: o.median / r.median,
      inProcess: {
        ours: { loadMs: stat(inside[ours].map((x) => x.loadMs)), firstAnswerMs: stat(inside[ours].map((x) => x.firstAnswerMs)), totalMs: inProcess(ours) },
        reference: { loadMs: stat(inside[ref].map((x) => x.loadMs)), firstAnswerMs: stat(inside[ref].map((x) => x.firstAnswerMs)), totalMs: inProcess(ref) },
        ratioToReference: inProcess(ours).median / inProcess(ref).median,
      },
    };
  }
  summary.coldStart = { bundleFiles, bundleBytes, bundleKB, referenceBytes: reference.bytes, referenceKB: reference.bytes / 1024, ...coldSummary };
  return { rows, summary };
}

/** Peak RSS after many decisions, ours against the floor process. */
async function memoryPart(ctx: BenchContext): Promise<Part> {
  const { env, known, bundle } = ctx;
  const rows: Row[] = [];
  const summary: Record<string, unknown> = {};
  log(`memory: ${SETTINGS.memoryRounds} rounds × ${SETTINGS.memoryDecisions} decisions, ours and the floor`);
  const tokensFile = join(RESULTS_DIR, "memory-tokens.json");
  const tokens = Array.from({ length: SETTINGS.memoryTokenPool }, (_, i) => signJwt(cognitoAccessClaims({ jti: `mem-${i}` }), known));
  writeFileSync(tokensFile, JSON.stringify({ jwk: known.jwk, tokens }));
  const memoryRunner = join(BUILD_DIR, "memory-runner.cjs");
  const mem = { ours: [] as number[], floor: [] as number[], oursRate: [] as number[], floorRate: [] as number[] };
  for (let round = 0; round < SETTINGS.memoryRounds; round++) {
    for (const k of round % 2 ? (["floor", "ours"] as const) : (["ours", "floor"] as const)) {
      const subject = k === "ours" ? bundle : "floor";
      const r = await runTimed([process.execPath, memoryRunner, subject, tokensFile, String(SETTINGS.memoryDecisions)], env, 5 * 60_000);
      const report = r.report as { peakRssKB: number; decisions: number; seconds: number; verdicts: Record<string, number> };
      if (report.verdicts.Allow !== SETTINGS.memoryDecisions) throw new Error(`memory run of ${k}: ${JSON.stringify(report.verdicts)}`);
      mem[k].push(report.peakRssKB / 1024);
      mem[k === "ours" ? "oursRate" : "floorRate"].push(report.decisions / report.seconds);
    }
  }
  const rss = stat(mem.ours);
  const floorRss = stat(mem.floor);
  rows.push({
    figure: `Peak RSS after ${SETTINGS.memoryDecisions.toLocaleString("en-US")} decisions (TOKEN → Allow)`,
    unit: "MB",
    value: rss,
    baseline: `floor process ${fmt(floorRss.median)} MB (${fmt(floorRss.min)} – ${fmt(floorRss.max)})`,
    ratio: rss.median / floorRss.median,
    target: `≤ ${TARGETS.peakRssVsFloor}× floor`,
    met: rss.median / floorRss.median <= TARGETS.peakRssVsFloor,
  });
  summary.memory = {
    decisions: SETTINGS.memoryDecisions,
    tokenPool: SETTINGS.memoryTokenPool,
    oursPeakRssMB: rss,
    floorPeakRssMB: floorRss,
    ratioToFloor: rss.median / floorRss.median,
    oursDecisionsPerSecond: stat(mem.oursRate),
    floorDecisionsPerSecond: stat(mem.floorRate),
  };
  return { rows, summary };
}

/** Authorizer invocations through the local stack's gateway cache. */
async function gatewayPart(_ctx: BenchContext): Promise<Part> {
  const rows: Row[] = [];
  const summary: Record<string, unknown> = {};
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
  return { rows, summary };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const bundle = bundlePath();
  // Every file the function can load: the bundle and any chunk beside it (dist/*.js).
  const bundleFiles = readdirSync(dirname(bundle))
    .filter((f) => f.endsWith(".js"))
    .map((f) => ({ name: f, bytes: statSync(join(dirname(bundle), f)).size }));
  const bundleBytes = bundleFiles.reduce((n, f) => n + f.bytes, 0);
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

  const ctx: BenchContext = { env, jwks, known, unknown, bundle, bundleFiles, bundleBytes, reference };
  const collect = (part: Part) => {
    rows.push(...part.rows);
    Object.assign(summary, part.summary);
  };
  try {
    if (wanted("rates")) collect(await ratesPart(ctx));

    if (wanted("cold")) collect(await coldStartPart(ctx));

    if (wanted("memory")) collect(await memoryPart(ctx));

    if (wanted("gateway")) collect(await gatewayPart(ctx));
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
