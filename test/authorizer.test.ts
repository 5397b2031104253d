/** event → verify → decide → answer, with a stand-in TokenVerifier (aws-jwt-verify itself is tested through the handler). */
import { FetchError, JwtExpiredError, JwtInvalidSignatureError } from "aws-jwt-verify/error";
import { parseAccessRules } from "../src/access";
import { createAuthorizer, failingAuthorizer } from "../src/authorizer";
import { ConfigError } from "../src/errors";
import type { TokenVerifier } from "../src/verifier";

const ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets";
const tokenEvent = (authorizationToken = "Bearer a.b.c", methodArn = ARN) => ({ type: "TOKEN", authorizationToken, methodArn });
const rules = parseAccessRules('{"rules":[{"route":"GET /pets","scopes":["pets/read"]}]}', "ACCESS_RULES");
const payload = { sub: "u-1", iss: "https://issuer.example", scope: "pets/read" };

/** A verifier that answers with `result` (or throws it) and counts its calls. */
function verifierOf(result: unknown): TokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    verify: async (token: string) => {
      calls.push(token);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as TokenVerifier & { calls: string[] };
}

describe("createAuthorizer", () => {
  it("allows a verified caller the rules permit, with principal, request and answer", async () => {
    const verifier = verifierOf(payload);
    const outcome = await createAuthorizer({ accessRules: rules }, verifier).authorize(tokenEvent());
    expect(verifier.calls).toEqual(["a.b.c"]);
    expect(outcome).toMatchObject({ decision: "Allow", principal: { sub: "u-1" }, request: { kind: "TOKEN", route: "GET /pets" } });
    expect(outcome.response).toMatchObject({ principalId: "u-1", context: { sub: "u-1" } });
  });

  it("denies a verified caller the rules do not permit", async () => {
    const outcome = await createAuthorizer({ accessRules: rules }, verifierOf({ ...payload, scope: "other" })).authorize(tokenEvent());
    expect(outcome.decision).toBe("Deny");
    expect(outcome.reason).toBeUndefined();
  });

  it.each<[string, unknown, string, string]>([
    ["an expired token", new JwtExpiredError("expired", 1), "Expired", "JwtExpiredError"],
    ["a bad signature", new JwtInvalidSignatureError("bad"), "Invalid", "JwtInvalidSignatureError"],
    ["an unreachable key set", new FetchError("https://keys", "down"), "Error", "FetchError"],
  ])("turns %s into %s, named by its class", async (_name, error, decision, reason) => {
    const outcome = await createAuthorizer({ accessRules: rules }, verifierOf(error)).authorize(tokenEvent());
    expect(outcome).toMatchObject({ decision, reason });
    expect(outcome.response).toBeUndefined();
    expect("error" in outcome).toBe(decision === "Error");
  });

  it("never asks the verifier about a missing token (Invalid), and calls a malformed event our failure", async () => {
    const verifier = verifierOf(payload);
    const authorizer = createAuthorizer({ accessRules: rules }, verifier);
    expect(await authorizer.authorize(tokenEvent("Basic abc"))).toMatchObject({ decision: "Invalid", reason: "MissingTokenError", request: { route: "GET /pets" } });
    expect(await authorizer.authorize({ type: "TOKEN", authorizationToken: "Bearer a.b.c" })).toMatchObject({ decision: "Error", reason: "MalformedEventError" });
    expect(verifier.calls).toEqual([]);
  });
});

describe("failingAuthorizer", () => {
  it("answers every request as our failure, still describing the request", async () => {
    const error = new ConfigError("USER_POOL_ID", "is required");
    const outcome = await failingAuthorizer(error).authorize(tokenEvent());
    expect(outcome).toMatchObject({ decision: "Error", reason: "ConfigError", error, request: { route: "GET /pets" } });
    expect(await failingAuthorizer(error).authorize("not an event")).not.toHaveProperty("request");
  });
});
