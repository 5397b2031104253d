/**
 * Decision rates, measured in one process pinned to one core (see bench/run.mjs): the floor of a
 * decision, the crypto part alone, and the shipped handler (dist/index.js) on fresh tokens and on
 * each rejection path. Scenarios are interleaved round by round so that drift hits them all alike.
 * stdout is a pipe the parent drains (as in Lambda); results go back over the IPC channel.
 */
import { createPublicKey, createPrivateKey, randomBytes, verify, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { cognitoAccessClaims, nowSeconds, signJwt, type TestKey } from "../test/support/keys";
import { blockingStdio, eventFor, eventTemplate, type Handler, lambdaContext, REPO_ROOT, verdictOf } from "./lib";

export interface WorkerStart {
  readonly type: "start";
  readonly rounds: number;
  readonly ops: number;
  /** Keys as PEM + JWK: `known` is in the bench's key set, `unknown` is not. */
  readonly keys: { known: SerializedKey; unknown: SerializedKey };
}
export interface SerializedKey {
  readonly kid: string;
  readonly pem: string;
  readonly jwk: Record<string, string>;
}
export type ScenarioName =
  | "crypto"
  | "floor"
  | "allowRequest"
  | "allowToken"
  | "garbage"
  | "expired"
  | "unknownKid"
  | "forbidden";

export interface ScenarioResult {
  /** Decisions per second, one per timed round. */
  readonly rates: number[];
  readonly decisions: number;
  /** What API Gateway made of the answers (Allow / Deny / Unauthorized / Error). */
  readonly verdicts: Record<string, number>;
  /** Key-set requests the bench's JWKS server saw while this scenario ran. */
  readonly jwksRequests: number;
}
export interface WorkerResult {
  readonly type: "result";
  readonly scenarios: Record<ScenarioName, ScenarioResult>;
  /** Handler invocations (warm-up included), for checking one log line and one EMF record each. */
  readonly handlerInvocations: number;
  readonly floorDecisions: number;
}

type Op = (i: number) => Promise<unknown>;

const send = (message: unknown) =>
  new Promise<void>((resolve, reject) => process.send?.(message, (err: Error | null) => (err ? reject(err) : resolve())));

let pending: ((count: number) => void) | undefined;
/** Asks the parent how many key-set requests its JWKS server has served so far. */
function jwksCount(): Promise<number> {
  return new Promise((resolve) => {
    pending = resolve;
    void send({ type: "jwks?" });
  });
}

function testKey(k: SerializedKey): TestKey {
  return { kid: k.kid, alg: "RS256", privateKey: createPrivateKey(k.pem), jwk: k.jwk };
}

async function run(start: WorkerStart): Promise<WorkerResult> {
  blockingStdio();
  const known = testKey(start.keys.known);
  const unknown = testKey(start.keys.unknown);
  const publicKey: KeyObject = createPublicKey({ key: start.keys.known.jwk, format: "jwk" });

  // The shipped bundle: module-scope init runs here (config, verifier, key-set prefetch).
  const bundle = process.env.BENCH_BUNDLE || join(REPO_ROOT, "dist", "index.js");
  const { handler } = createRequire(__filename)(bundle) as { handler: Handler };

  // The floor's observability: one Powertools Logger line and one EMF flush of one metric.
  const floorLogger = new Logger({ serviceName: "bench-floor" });
  const floorMetrics = new Metrics({ serviceName: "bench-floor", namespace: "BenchFloor" });

  const request = eventTemplate("request");
  const tokenEvent = eventTemplate("token");
  let invocations = 0;
  let floorDecisions = 0;
  let sequence = 0;

  const mint = (key: TestKey, claims: Record<string, unknown> = {}) =>
    signJwt(cognitoAccessClaims({ jti: `bench-${++sequence}`, ...claims }), key);
  const withRequestId = (event: Record<string, unknown>) => {
    (event.requestContext as Record<string, unknown>).requestId = `bench-${++sequence}`;
    return event;
  };
  const garbage = () => randomBytes(600).toString("base64url");

  /** Everything a scenario needs for one round, generated before the clock starts. */
  const prepare = (name: ScenarioName, n: number): Op => {
    const items = Array.from({ length: n }, () => {
      switch (name) {
        case "crypto":
        case "floor":
          return mint(known);
        case "allowRequest":
          return withRequestId(eventFor(request, "request", mint(known)));
        case "allowToken":
          return eventFor(tokenEvent, "token", mint(known));
        case "garbage":
          return withRequestId(eventFor(request, "request", garbage()));
        case "expired":
          return withRequestId(eventFor(request, "request", mint(known, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })));
        case "unknownKid":
          return withRequestId(eventFor(request, "request", mint(unknown)));
        case "forbidden":
          return withRequestId(eventFor(request, "request", mint(known), "POST /pets"));
      }
    });
    const contexts = items.map(() => lambdaContext(`bench-${++sequence}`));
    if (name === "crypto") {
      return async (i) => {
        const token = items[i] as string;
        const [head, payload, signature] = token.split(".");
        if (!verify("sha256", Buffer.from(`${head}.${payload}`), publicKey, Buffer.from(signature, "base64url"))) throw new Error("bad");
        return undefined;
      };
    }
    if (name === "floor") {
      return async (i) => {
        const token = items[i] as string;
        const [head, payload, signature] = token.split(".");
        if (!verify("sha256", Buffer.from(`${head}.${payload}`), publicKey, Buffer.from(signature, "base64url"))) throw new Error("bad");
        floorLogger.info("floor", { decision: "Allow" });
        floorMetrics.addMetric("Allow", MetricUnit.Count, 1);
        floorMetrics.publishStoredMetrics();
        floorDecisions += 1;
        return undefined;
      };
    }
    return (i) => {
      invocations += 1;
      return handler(items[i], contexts[i]);
    };
  };

  const expected: Record<ScenarioName, string> = {
    crypto: "Other",
    floor: "Other",
    allowRequest: "Allow",
    allowToken: "Allow",
    garbage: "Unauthorized",
    expired: "Unauthorized",
    unknownKid: "Unauthorized",
    forbidden: "Deny",
  };
  // BENCH_SCENARIOS=floor,allowRequest narrows a run (with BENCH_CPU_PROF=1, a profile of just those).
  const only = process.env.BENCH_SCENARIOS?.split(",");
  const names = (Object.keys(expected) as ScenarioName[]).filter((n) => !only || only.includes(n));
  const results = Object.fromEntries(
    names.map((n) => [n, { rates: [] as number[], decisions: 0, verdicts: {} as Record<string, number>, jwksRequests: 0 }]),
  ) as Record<ScenarioName, { rates: number[]; decisions: number; verdicts: Record<string, number>; jwksRequests: number }>;

  // Each round prepares every scenario's inputs, then runs the scenarios in short interleaved
  // slices (SLICES per scenario, in rotating order), so that a burst of noise from elsewhere on the
  // machine lands on all scenarios of the round alike; per-round ratios to the floor stay comparable.
  const SLICES = 8;
  for (let round = 0; round <= start.rounds; round++) {
    const n = round === 0 ? Math.min(200, start.ops) : start.ops;
    const ops = new Map(names.map((name) => [name, prepare(name, n)]));
    const elapsed = new Map(names.map((name) => [name, 0]));
    const outcomes = new Map(names.map((name) => [name, new Array<{ value?: unknown; error?: unknown }>(n)]));
    const jwks = new Map(names.map((name) => [name, 0]));
    for (let slice = 0; slice < SLICES; slice++) {
      const from = Math.floor((slice * n) / SLICES);
      const to = Math.floor(((slice + 1) * n) / SLICES);
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + slice + round) % names.length];
        const op = ops.get(name) as Op;
        const out = outcomes.get(name) as { value?: unknown; error?: unknown }[];
        const before = await jwksCount();
        const t0 = performance.now();
        for (let i = from; i < to; i++) {
          try {
            out[i] = { value: await op(i) };
          } catch (error) {
            out[i] = { error };
          }
        }
        elapsed.set(name, (elapsed.get(name) as number) + performance.now() - t0);
        jwks.set(name, (jwks.get(name) as number) + (await jwksCount()) - before);
      }
    }
    if (round === 0) continue; // warm-up: JIT, the first invocation (ColdStart metric), the key-set prefetch
    for (const name of names) {
      const r = results[name];
      r.rates.push((n * 1000) / (elapsed.get(name) as number));
      r.decisions += n;
      r.jwksRequests += jwks.get(name) as number;
      for (const o of outcomes.get(name) as { value?: unknown; error?: unknown }[]) {
        const v = name === "crypto" || name === "floor" ? (o.error ? "Error" : "Other") : verdictOf(o);
        r.verdicts[v] = (r.verdicts[v] ?? 0) + 1;
      }
    }
  }
  for (const name of names) {
    const wrong = Object.entries(results[name].verdicts).filter(([v]) => v !== expected[name]);
    if (wrong.length > 0) throw new Error(`${name}: expected every answer to be ${expected[name]}, got ${JSON.stringify(results[name].verdicts)}`);
  }
  return { type: "result", scenarios: results, handlerInvocations: invocations, floorDecisions };
}

/** Exits once every queued log write has reached the pipes (the parent counts the lines). */
function exitAfterFlush(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

process.on("message", (message: { type: string; count?: number }) => {
  if (message.type === "jwks") {
    pending?.(message.count ?? -1);
    pending = undefined;
  } else if (message.type === "start") {
    run(message as unknown as WorkerStart).then(
      (result) => send(result).then(() => exitAfterFlush(0)),
      (err: Error) => send({ type: "error", message: err.stack ?? String(err) }).then(() => exitAfterFlush(1)),
    );
  }
});
