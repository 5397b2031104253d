import { decideAccess } from "./access";
import { type BindingCheck, createBindingCheck } from "./binding";
import { contextOf, type Principal, principalOf } from "./claims";
import type { Config } from "./config";
import { classifyFailure, type Decision, reasonOf } from "./errors";
import { type AuthorizerRequest, readEvent } from "./event";
import { type AuthorizerResponse, policyResponse, simpleResponse } from "./response";
import type { TokenVerifier } from "./verifier";

/** The result of one authorization, before it is observed and turned into a return or a throw. */
export interface Outcome {
  readonly decision: Decision;
  /** The failure's class name (never its message, which may quote claims). */
  readonly reason?: string;
  /** The failure itself, for Error outcomes only (our own failures are worth their message in the log). */
  readonly error?: unknown;
  readonly request?: AuthorizerRequest;
  readonly principal?: Principal;
  /** Present for Allow and Deny. */
  readonly response?: AuthorizerResponse;
}

export interface Authorizer {
  /** Never rejects: every failure becomes an Outcome. */
  authorize(event: unknown): Promise<Outcome>;
}

/**
 * event → verify → check the sender binding → decide → answer. Pure but for the verifier and the
 * binding check it is given (the default check refuses sender-constrained tokens, BOUND_TOKENS=refuse).
 */
export function createAuthorizer(
  config: Pick<Config, "accessRules">,
  verifier: TokenVerifier,
  checkBinding: BindingCheck = createBindingCheck(),
): Authorizer {
  return {
    async authorize(event) {
      let request: AuthorizerRequest | undefined;
      let principal: Principal | undefined;
      try {
        request = readEvent(event);
        if (typeof request.token !== "string") throw request.token;
        const payload = await verifier.verify(request.token);
        principal = principalOf(payload);
        // After principalOf, so that a failed binding is logged with whose token it was.
        checkBinding(request, request.token, payload);
        const access = decideAccess(config.accessRules, principal, request.arn);
        const context = contextOf(principal, payload);
        // A simple response says the rules' decision itself; a policy says what it can say exactly.
        const allowed = request.kind === "HTTP" ? access.permitted : access.allowsRequest;
        const response =
          request.kind === "HTTP"
            ? simpleResponse(allowed, context)
            : policyResponse(principal.sub, access, request.arn, context);
        return { decision: allowed ? "Allow" : "Deny", request, principal, response };
      } catch (err) {
        const decision = classifyFailure(err);
        return {
          decision,
          reason: reasonOf(err),
          ...(decision === "Error" ? { error: err } : {}),
          ...(request ? { request } : {}),
          ...(principal ? { principal } : {}),
        };
      }
    },
  };
}

/** Stands in when the configuration is invalid: every request is our failure (500), never a 401 or Deny. */
export function failingAuthorizer(error: unknown): Authorizer {
  return {
    async authorize(event) {
      let request: AuthorizerRequest | undefined;
      try {
        request = readEvent(event);
      } catch {
        request = undefined;
      }
      return { decision: "Error", reason: reasonOf(error), error, ...(request ? { request } : {}) };
    },
  };
}
