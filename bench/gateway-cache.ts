/**
 * Gateway cache efficiency through the local stack (src/local/stack.ts): 1,000 requests with one
 * token across 10 permitted routes within one TTL, counting authorizer invocations — beside the
 * invocations a policy that allows only the requested methodArn would need, found by replaying
 * the same requests against such a policy with the gateway's own policy evaluation.
 */
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type CachedPolicy, evaluatePolicy, methodArnFor } from "../src/local/gateway";
import { startLocalStack } from "../src/local/stack";
import { RESULTS_DIR } from "./lib";

export const GATEWAY_ROUTES = [
  "GET /pets",
  "GET /pets/1",
  "GET /pets/2",
  "POST /pets",
  "DELETE /pets/1",
  "DELETE /pets/2",
  "GET /admin/users",
  "POST /admin/users",
  "PUT /admin/settings",
  "DELETE /admin/cache",
] as const;

export interface GatewayResult {
  readonly requests: number;
  readonly routes: number;
  readonly statuses: Record<string, number>;
  /** Authorizer invocations the 1,000 requests caused (counted by the local invoke server). */
  readonly authorizerInvocations: number;
  /** Invocations a methodArn-only policy needs for every request to be answered correctly. */
  readonly methodArnOnlyInvocations: number;
  /** With a methodArn-only policy and the token as the only cache key: wrong 403s instead. */
  readonly methodArnOnlyWrong403s: number;
  /** The same replay with the policy our authorizer actually returned (must give this run's count). */
  readonly replayedOwnPolicyInvocations: number;
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

/**
 * Replays the requests against API Gateway's cache: on a miss the authorizer is invoked and
 * `answer(route)` is what it returns; `routeInKey` puts the route into the cache key.
 */
export function replay(
  routes: readonly string[],
  answer: (methodArn: string) => CachedPolicy,
  routeInKey: boolean,
): { invocations: number; denied: number } {
  const cache = new Map<string, CachedPolicy>();
  let invocations = 0;
  let denied = 0;
  for (const route of routes) {
    const [method, path] = route.split(" ");
    const arn = methodArnFor(method, path);
    const key = routeInKey ? `token ${route}` : "token";
    let policy = cache.get(key);
    if (!policy) {
      invocations += 1;
      policy = answer(arn);
      cache.set(key, policy);
    }
    if (evaluatePolicy(policy, arn) !== "Allow") denied += 1;
  }
  return { invocations, denied };
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

    // The policy our authorizer returns for this token, fetched once straight from the invoke URL
    // (after the count above), to replay it the same way as the methodArn-only one.
    const event = {
      type: "TOKEN",
      authorizationToken: `Bearer ${token}`,
      methodArn: methodArnFor("GET", "/pets"),
    };
    const body = await new Promise<string>((resolve, reject) => {
      const payload = JSON.stringify(event);
      const req = request(stack.invokeUrl, { method: "POST", headers: { "content-type": "application/json" }, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      });
      req.on("error", reject);
      req.end(payload);
    });
    const answered = JSON.parse(body) as { principalId: string; policyDocument: { Statement: { Effect: "Allow" | "Deny"; Resource: string[] }[] } };
    const own: CachedPolicy = {
      principalId: answered.principalId,
      statements: answered.policyDocument.Statement.map((s) => ({ effect: s.Effect, resources: s.Resource })),
      context: {},
    };
    const methodArnOnly = (arn: string): CachedPolicy => ({
      principalId: own.principalId,
      statements: [{ effect: "Allow", resources: [arn] }],
      context: {},
    });
    const perRoute = replay(sequence, methodArnOnly, true);
    const tokenKeyed = replay(sequence, methodArnOnly, false);
    const ownReplay = replay(sequence, () => own, false);
    if (ownReplay.denied !== 0) throw new Error(`our own policy denies ${ownReplay.denied} of the permitted requests`);
    if (perRoute.denied !== 0) throw new Error("methodArn-only replay with per-route keys should deny nothing");
    return {
      requests: total,
      routes: GATEWAY_ROUTES.length,
      statuses,
      authorizerInvocations: invocations,
      methodArnOnlyInvocations: perRoute.invocations,
      methodArnOnlyWrong403s: tokenKeyed.denied,
      replayedOwnPolicyInvocations: ownReplay.invocations,
    };
  } finally {
    await stack.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
