/**
 * Gateway cache efficiency through the local stack (src/local/stack.ts): 1,000 requests with one
 * token across 10 permitted routes within one TTL, counting authorizer invocations with the cache
 * keyed on token, method and path (as the template configures it). Beside it, replays of the same
 * requests with the token as the only cache key: our own answers (fewer invocations, but 403s for
 * {param} routes the first answer cannot name) and a methodArn-only policy.
 */
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type CachedPolicy, methodArnFor, parsePolicy } from "../src/local/gateway";
import { GATEWAY_ROUTES, replay } from "../test/support/gateway-replay";
import { startLocalStack } from "../src/local/stack";
import { RESULTS_DIR } from "./lib";


export interface GatewayResult {
  readonly requests: number;
  readonly routes: number;
  readonly statuses: Record<string, number>;
  /** Authorizer invocations the 1,000 requests caused, cache keyed on token + method + path (counted by the local invoke server). */
  readonly authorizerInvocations: number;
  /** Our own answers cached by the token alone: invocations, and permitted requests answered 403. */
  readonly tokenKeyedInvocations: number;
  readonly tokenKeyedWrong403s: number;
  /** Invocations a methodArn-only policy needs for every request to be answered correctly. */
  readonly methodArnOnlyInvocations: number;
  /** With a methodArn-only policy and the token as the only cache key: wrong 403s instead. */
  readonly methodArnOnlyWrong403s: number;
  /** The route-keyed replay of our own answers (must give this run's count, and no 403). */
  readonly replayedOwnPolicyInvocations: number;
}

/** One authorizer answer from the invoke URL, as the gateway would cache it. */
async function invoke(invokeUrl: string, event: Record<string, unknown>): Promise<CachedPolicy> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(invokeUrl, { method: "POST", headers: { "content-type": "application/json" }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    req.on("error", reject);
    req.end(JSON.stringify(event));
  });
  const policy = parsePolicy(JSON.parse(body));
  if (typeof policy === "string") throw new Error(`invalid authorizer answer: ${policy}`);
  return policy;
}

function get(url: string, method: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { authorization }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

export async function gatewayCacheEfficiency(total = 1000, concurrency = 10): Promise<GatewayResult> {
  // A throwaway state dir (the local issuer's keys and CA), removed afterwards.
  const stateDir = mkdtempSync(join(RESULTS_DIR, "local-"));
  const stack = await startLocalStack({ cacheTtlSeconds: 300, stateDir }).catch((err: unknown) => {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  });
  try {
    const token = await stack.mintToken({ scopes: ["pets/read", "pets/write"], groups: ["admin"] });
    const sequence = Array.from({ length: total }, (_, i) => GATEWAY_ROUTES[i % GATEWAY_ROUTES.length]);
    const before = stack.authorizerInvocations();
    const statuses: Record<string, number> = {};
    let next = 0;
    const workers = Array.from({ length: concurrency }, async () => {
      while (next < sequence.length) {
        const route = sequence[next++];
        const [method, path] = route.split(" ");
        const res = await get(`${stack.gatewayUrl}${path}`, method, `Bearer ${token}`);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    });
    await Promise.all(workers);
    const invocations = stack.authorizerInvocations() - before;

    // The answers our authorizer gives this token for each route, fetched straight from the invoke
    // URL (after the count above), to replay them against differently keyed caches.
    const answers = new Map<string, CachedPolicy>();
    for (const route of new Set(sequence)) {
      const [method, path] = route.split(" ");
      const arn = methodArnFor(method, path);
      answers.set(arn, await invoke(stack.invokeUrl, { type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: arn }));
    }
    const own = (arn: string): CachedPolicy => {
      const answer = answers.get(arn);
      if (!answer) throw new Error(`no answer fetched for ${arn}`);
      return answer;
    };
    const methodArnOnly = (arn: string): CachedPolicy => ({
      principalId: own(arn).principalId,
      statements: [{ effect: "Allow", resources: [arn] }],
      context: {},
    });
    const perRoute = replay(sequence, methodArnOnly, true);
    const tokenKeyed = replay(sequence, methodArnOnly, false);
    const ownReplay = replay(sequence, own, true);
    const ownTokenKeyed = replay(sequence, own, false);
    if (ownReplay.denied !== 0) throw new Error(`our own route-keyed answers deny ${ownReplay.denied} of the permitted requests`);
    if (perRoute.denied !== 0) throw new Error("methodArn-only replay with per-route keys should deny nothing");
    return {
      requests: total,
      routes: GATEWAY_ROUTES.length,
      statuses,
      authorizerInvocations: invocations,
      tokenKeyedInvocations: ownTokenKeyed.invocations,
      tokenKeyedWrong403s: ownTokenKeyed.denied,
      methodArnOnlyInvocations: perRoute.invocations,
      methodArnOnlyWrong403s: tokenKeyed.denied,
      replayedOwnPolicyInvocations: ownReplay.invocations,
    };
  } finally {
    await stack.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
