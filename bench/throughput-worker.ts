/**
 * One contender of the decision-rate part, in its own process (see bench/main.ts), pinned to one
 * core, with stdout and stderr pipes the parent drains (as in Lambda). The contender is named by
 * argv[2]: the floor, the crypto part alone, or the shipped handler (dist/index.js) on one workload.
 *
 * The parent drives it over IPC: `prepare` (mint this round's inputs, off the clock: a fresh,
 * never-seen token per call), then `run` slices, each timed here and answered with its elapsed
 * milliseconds, interleaved by the parent with the other contenders' slices.
 */
import { createPrivateKey, createPublicKey, randomInt } from "node:crypto";
import { cognitoAccessClaims, nowSeconds, signJwt, type TestKey } from "../test/support/keys";
import { type FromWorker, SCENARIOS, type ScenarioName, type SerializedKey, type ToWorker } from "./contenders";
import { createFloor } from "./floor";
import { blockingStdio, eventFor, eventTemplate, type Handler, lambdaContext, verdictOf } from "./lib";
import { loadBundle } from "../test/support/bundle";
import { dpopProof, generateDpopKey, withSender } from "../test/support/dpop";

type Op = (i: number) => Promise<unknown>;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const randomBase64Url = (length: number) => Array.from({ length }, () => BASE64URL[randomInt(64)]).join("");

const name = process.argv[2] as ScenarioName;
if (!SCENARIOS.includes(name)) throw new Error(`unknown contender ${name}`);

const send = (message: FromWorker) =>
  new Promise<void>((resolve, reject) => process.send?.(message, (err: Error | null) => (err ? reject(err) : resolve())));

function testKey(k: SerializedKey): TestKey {
  return { kid: k.kid, alg: "RS256", privateKey: createPrivateKey(k.pem), jwk: k.jwk };
}

let known: TestKey;
let unknown: TestKey;
let handler: Handler | undefined;
let decide: ((token: string) => void) | undefined;
let op: Op = async () => undefined;
let outcomes: { value?: unknown; error?: unknown }[] = [];
const verdicts: Record<string, number> = {};
let handlerInvocations = 0;
let floorDecisions = 0;
let sequence = 0;
let counting = false;

function init(keys: { known: SerializedKey; unknown: SerializedKey }): void {
  blockingStdio();
  known = testKey(keys.known);
  unknown = testKey(keys.unknown);
  const publicKey = createPublicKey({ key: keys.known.jwk, format: "jwk" });
  if (name === "crypto" || name === "floor") decide = createFloor(publicKey, name === "floor");
  else {
    // The shipped bundle (or BENCH_BUNDLE's): module-scope init runs here (config, verifier, key-set prefetch).
    handler = loadBundle().handler;
  }
}

/** The URL the sample REQUEST event was sent to, as a DPoP client names it in `htu`. */
const REQUEST_URL = "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets";
/** The client's proof key: ES256 (what DPoP clients mostly use), or RS256 for the scale row. */
const dpopKey = generateDpopKey(name === "dpopRequestRs256" ? "RS256" : "ES256");

/** This round's inputs, generated before the clock starts: a fresh token per call. */
function prepare(n: number, count: boolean): void {
  counting = count;
  const request = eventTemplate("request");
  const tokenEvent = eventTemplate("token");
  const mint = (key: TestKey, claims: Record<string, unknown> = {}) => signJwt(cognitoAccessClaims({ jti: `bench-${process.pid}-${++sequence}`, ...claims }), key);
  const withRequestId = (event: Record<string, unknown>) => {
    (event.requestContext as Record<string, unknown>).requestId = `bench-${process.pid}-${++sequence}`;
    return event;
  };
  /** Three segments of random base64url characters, each as long as a real token's. */
  const garbage = () => mint(known).split(".").map((s) => randomBase64Url(s.length)).join(".");
  const token = (t: string) => eventFor(tokenEvent, "token", t);
  const items: unknown[] = Array.from({ length: n }, () => {
    switch (name) {
      case "crypto":
      case "floor":
        return mint(known);
      case "allowToken":
        return token(mint(known));
      case "allowRequest":
        return withRequestId(eventFor(request, "request", mint(known)));
      case "expired":
        return token(mint(known, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }));
      case "garbage":
        return token(garbage());
      case "unknownKid":
        return token(mint(unknown));
      case "forbidden":
        return eventFor(tokenEvent, "token", mint(known), "POST /pets");
      case "dpopRequest":
      case "dpopRequestRs256": {
        // A DPoP-bound token (cnf.jkt) with a fresh proof for this very request: two signature checks.
        const jwt = mint(known, { cnf: { jkt: dpopKey.jkt } });
        const proof = dpopProof(dpopKey, { htm: "GET", htu: REQUEST_URL, accessToken: jwt });
        return withRequestId(withSender(eventFor(request, "request", jwt), { authorization: `DPoP ${jwt}`, dpop: proof }));
      }
    }
  });
  const contexts = items.map(() => lambdaContext(`bench-${process.pid}-${++sequence}`));
  outcomes = new Array(n);
  if (decide) {
    const d = decide;
    op = async (i) => {
      d(items[i] as string);
      if (name === "floor") floorDecisions += 1;
      return undefined;
    };
  } else {
    const h = handler as Handler;
    op = (i) => {
      handlerInvocations += 1;
      return h(items[i], contexts[i]);
    };
  }
}

async function run(from: number, to: number): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < to; i++) {
    try {
      outcomes[i] = { value: await op(i) };
    } catch (error) {
      outcomes[i] = { error };
    }
  }
  const ms = performance.now() - t0;
  if (counting) {
    for (let i = from; i < to; i++) {
      const o = outcomes[i];
      const v = decide ? (o.error ? "Error" : "Other") : verdictOf(o);
      verdicts[v] = (verdicts[v] ?? 0) + 1;
    }
  }
  return ms;
}

/** Exits once every queued log write has reached the pipes (the parent counts the lines). */
function exitAfterFlush(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

process.on("message", (message: ToWorker) => {
  if (message.type === "exit") return exitAfterFlush(0);
  const answer = async (): Promise<FromWorker> => {
    switch (message.type) {
      case "init":
        init(message.keys);
        return { type: "ready" };
      case "prepare":
        prepare(message.n, message.count);
        return { type: "ready" };
      case "run":
        return { type: "ran", ms: await run(message.from, message.to) };
      case "verdicts":
        return { type: "verdicts", verdicts, handlerInvocations, floorDecisions };
      default:
        throw new Error(`unexpected message ${JSON.stringify(message)}`);
    }
  };
  answer().then(
    (reply) => send(reply),
    (err: Error) => send({ type: "error", message: err.stack ?? String(err) }).then(() => exitAfterFlush(1)),
  );
});
process.on("disconnect", () => exitAfterFlush(0)); // the parent is gone
