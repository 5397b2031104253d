/**
 * The bench's "methodArn-only policy" figure is computed, not hard-coded: it replays the requests
 * against API Gateway's policy evaluation (src/local/gateway.ts). These tests pin that replay.
 */
import { type CachedPolicy, methodArnFor } from "../../src/local/gateway";
import { GATEWAY_ROUTES, replay } from "./gateway-replay";
import { stat } from "./stats";

const sequence = Array.from({ length: 1000 }, (_, i) => GATEWAY_ROUTES[i % GATEWAY_ROUTES.length]);
const methodArnOnly = (arn: string): CachedPolicy => ({ principalId: "p", statements: [{ effect: "Allow", resources: [arn] }], context: {} });
const stageWide: CachedPolicy = {
  principalId: "p",
  statements: [{ effect: "Allow", resources: [methodArnFor("*", "/*")] }], // the whole stage
  context: {},
};

describe("gateway cache replay", () => {
  it("uses 10 distinct permitted routes", () => {
    expect(new Set(GATEWAY_ROUTES).size).toBe(10);
  });

  it("needs one invocation per route for a methodArn-only policy to answer every request right", () => {
    expect(replay(sequence, methodArnOnly, true)).toEqual({ invocations: 10, denied: 0 });
  });

  it("gives wrong 403s when a methodArn-only policy is cached by token alone", () => {
    expect(replay(sequence, methodArnOnly, false)).toEqual({ invocations: 1, denied: 900 });
  });

  it("needs a single invocation for a policy covering every permitted route", () => {
    expect(replay(sequence, () => stageWide, false)).toEqual({ invocations: 1, denied: 0 });
  });
});

describe("bench statistics", () => {
  it("reports median, min and max", () => {
    expect(stat([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, rounds: 3 });
    expect(stat([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, rounds: 4 });
    expect(() => stat([])).toThrow("no samples");
  });
});
