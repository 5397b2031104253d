// Summarises a V8 CPU profile written by `BENCH_CPU_PROF=1 npm run bench` (bench/results/profiles/):
// self and inclusive time by function, leaving out the bench's own token minting (not timed).
//   node bench/profile-summary.mjs bench/results/profiles/<file>.cpuprofile [top=30]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/profile-summary.mjs <file.cpuprofile> [top]");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const untimed = /^(prepare|signJwt|mint|signOneShot|generateKeyPair.*)$/;
const label = (cf) => `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`;
/** Each sample's call chain (leaf first) and duration (µs), leaving out idle time and the bench's untimed token minting. */
const timedSamples = profile.samples.flatMap((sample, i) => {
  const chain = [];
  for (let id = sample; id !== undefined; id = parentOf.get(id)) chain.push(byId.get(id).callFrame);
  if (chain[0].functionName === "(idle)" || chain.some((cf) => untimed.test(cf.functionName))) return [];
  return [{ chain, dt: profile.timeDeltas[i] ?? 0 }];
});
const self = new Map();
const inclusive = new Map();
let total = 0;
for (const { chain, dt } of timedSamples) {
  total += dt;
  self.set(label(chain[0]), (self.get(label(chain[0])) ?? 0) + dt);
  for (const key of new Set(chain.map(label))) inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
}
const show = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
};
console.log(`${(total / 1000).toFixed(0)} ms of samples (token minting excluded)`);
show("Self time", self);
show("Inclusive time", inclusive);

// Where the time goes, by owner: each sample goes to the first owner found walking from the leaf up
// (so a pipe write made by the Logger counts as the pipe write). Shares of the timed samples.
const OWNERS = [
  ["(garbage collector)", /^\(garbage collector\)$/],
  ["stdout pipe write", /^(writeUtf8String|writeBuffer|handleWriteReq|writeGeneric|writev|writevGeneric)$/],
  ["crypto.verify (signature)", /^(verify|verifyOneShot|Verify|update)$/, /crypto\/sig/],
  ["Powertools Logger", /^(processLogItem|createAndPopulateLogItem|printLog|formatAttributes|#getPowertoolsLogData|#processExtraObject|formatTimestamp|getLogLevelNameFromNumber|addContext|info|error|getJsonReplacer)$/],
  ["Powertools Metrics (EMF)", /^(publishStoredMetrics|addMetric|serializeMetrics|storeMetric|captureColdStartMetric|clearMetrics)$/],
  ["Powertools env reads (InvokeStore check)", /^(getStringFromEnv|shouldUseInvokeStore)$/],
  ["aws-jwt-verify: parse (JSON with reviver)", /^(decomposeUnverifiedJwt|safeJsonParse)$/],
  ["aws-jwt-verify: key, claims, errors, async", /^(verifyDecomposedJwt|validateJwtFields|validateJwtHeaderAndJwk|getVerifyParameters|getJwk|FailedAssertionError|JwtParseError|assertStringArraysOverlap|assertStringArrayContainsString|assertStringEquals|verifySignatureAsync|verifySignatureSync|transformJwkToKeyObjectAsync|verify2)$/],
  ["ours: event, lenient read, form checks", /^(readEvent|describe|bearerToken|header|parseMethodArn|readUnverified|decodeSegment|mayBeJsonObject|checkTokenForm|isCanonicalBase64Url)$/],
  ["ours: claims, access, policy, context", /^(principalOf|optionalString|decideAccess|routeMatches|holds|contextOf|policyResponse|isLiteralResource|exactResourceCovers)$/],
  ["ours: handler, outcome, log fields", /^(authorize|observe|reasonOf|classifyFailure|monotonicMs|withoutStackTrace|unauthorized)$/],
];
const owned = new Map();
let ownedTotal = 0;
for (const { chain, dt } of timedSamples) {
  // Only decisions: samples under the timed loop or its microtasks (module loading and init are left out).
  if (!chain.some((cf) => cf.functionName === "runMicrotasks" || cf.functionName === "run") && chain[0].functionName !== "(garbage collector)") continue;
  let owner = "other (async machinery, V8, harness)";
  for (const cf of chain) {
    const hit = OWNERS.find(([, name, url]) => name.test(cf.functionName) && (!url || url.test(cf.url)));
    if (hit) {
      owner = hit[0];
      break;
    }
  }
  owned.set(owner, (owned.get(owner) ?? 0) + dt);
  ownedTotal += dt;
}
console.log("\nBy owner (decisions only)");
for (const [owner, us] of [...owned].sort((a, b) => b[1] - a[1])) console.log(`${((us / ownedTotal) * 100).toFixed(1).padStart(5)}%  ${owner}`);
