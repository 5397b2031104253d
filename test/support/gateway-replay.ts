/**
 * API Gateway's authorizer cache, replayed: which requests invoke the authorizer and which get a 403,
 * for a given answer per method ARN and a given cache key. Used by the bench's gateway figure.
 */
import { type CachedPolicy, evaluatePolicy, methodArnFor } from "../../src/local/gateway";

/** Ten distinct routes a token with pets/read, pets/write and group admin may call under the example rules. */
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

