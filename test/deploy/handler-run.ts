/**
 * Runs the real handler with the authorizer function's environment from a resolved template and
 * returns every JSON line it prints: the EMF metric records and the decision log lines.
 */
import type { Context } from "aws-lambda";
import type { Authorizer } from "../../src/authorizer";
import { DECISIONS, type Decision } from "../../src/errors";
import { readEvent } from "../../src/event";
import { createHandler, refreshFailureReporter } from "../../src/handler";
import { createObservability } from "../../src/observability";
import { simpleResponse } from "../../src/response";
import { captureOutput } from "../support/capture";
import type { JsonObject, Resolved } from "./cfn";

const SAMPLE_EVENT = {
  type: "REQUEST",
  methodArn: "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/pets",
  headers: { Authorization: "Bearer a.b.c" },
  multiValueHeaders: { Authorization: ["Bearer a.b.c"] },
  requestContext: { requestId: "r-1" },
};
const SAMPLE_PRINCIPAL = { sub: "user-1", clientId: "client-1", scopes: [], groups: [], issuer: "https://issuer.example.com" };

/** The authorizer function's environment variables in a resolved template. */
export function functionEnv(resolved: Resolved): Record<string, string> {
  const env = (resolved.resources.AuthorizerFunction.Properties.Environment as JsonObject).Variables as JsonObject;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/**
 * Runs the real handler once per decision with the function's environment from the template and
 * a Lambda context naming the function as CloudFormation would, and returns every JSON line it
 * prints. Only the decision is stubbed (no token verification is needed to count one); during the
 * Allow, a failed key-set refresh is reported through the handler's own reporter.
 */
export async function recordsOfEveryDecision(resolved: Resolved): Promise<JsonObject[]> {
  // Lambda sets this for on-demand environments; Powertools counts a cold start only then.
  const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
  const observability = createObservability(functionEnv(resolved));
  const context = { functionName: resolved.refs.AuthorizerFunction } as Context;
  const reportRefreshFailure = refreshFailureReporter(observability);
  const output = captureOutput();
  try {
    for (const decision of DECISIONS) {
      // A full outcome, so that the decision line carries every field it can have.
      const decided = (d: Decision): Authorizer => ({
        authorize: async () => {
          // A key-set refresh that failed during this request, reported as the verifier reports it.
          if (d === "Allow") reportRefreshFailure({ uri: "https://issuer.example.com/.well-known/jwks.json", error: new Error("sample refresh failure"), staleForMs: 1000, graceLeftMs: 1000 });
          return {
          decision: d,
          ...(d === "Allow" ? {} : { reason: "SampleError" }),
          ...(d === "Error" ? { error: new Error("sample failure") } : {}),
          request: readEvent(SAMPLE_EVENT),
          ...(d === "Allow" || d === "Deny" ? { principal: SAMPLE_PRINCIPAL, response: simpleResponse(d === "Allow", {}) } : {}),
          };
        },
      });
      const handler = createHandler({ ...observability, authorizer: decided(decision), ready: Promise.resolve() });
      await handler({}, context).catch(() => undefined); // Expired/Invalid/Error throw, as they must
    }
  } finally {
    output.stop();
    if (initType === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initType;
  }
  return output.lines.map((line) => JSON.parse(line) as JsonObject);
}

