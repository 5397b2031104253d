import { type Access, isLiteralResource } from "./access";
import type { MethodArn } from "./arn";
import type { AuthorizerContext } from "./claims";

export interface PolicyStatement {
  readonly Action: "execute-api:Invoke";
  readonly Effect: "Allow" | "Deny";
  readonly Resource: string[];
}

/** REST API (and HTTP API 1.0-format) authorizer answer. */
export interface PolicyResponse {
  readonly principalId: string;
  readonly policyDocument: { readonly Version: "2012-10-17"; readonly Statement: PolicyStatement[] };
  readonly context: AuthorizerContext;
}

/** HTTP API payload 2.0 simple response. */
export interface SimpleResponse {
  readonly isAuthorized: boolean;
  readonly context?: AuthorizerContext;
}

export type AuthorizerResponse = PolicyResponse | SimpleResponse;

/**
 * The policy for a verified caller. API Gateway caches it for this token (or identity sources) and
 * reuses it on later requests, so it allows what `access.allow` says — nothing the rules deny,
 * whatever route asked first — and always carries the context, since a later permitted route may be
 * served from this very answer.
 *
 * A denied request is denied implicitly (no Allow matches it). An explicit Deny names only the
 * requested ARN, and only when that ARN has no IAM wildcard in it, so a cached Deny can never
 * block another route. A policy needs one statement: when nothing is allowed and the ARN cannot
 * be named, the Deny names the stage itself, which no method ARN equals.
 */
export function policyResponse(
  principalId: string,
  access: Access,
  requested: MethodArn,
  context: AuthorizerContext,
): PolicyResponse {
  const Statement: PolicyStatement[] = [];
  const literalArn = isLiteralResource(requested.arn);
  if (access.allow.length > 0) Statement.push({ Action: "execute-api:Invoke", Effect: "Allow", Resource: [...access.allow] });
  if (!access.allowsRequest && (literalArn || Statement.length === 0)) {
    const Resource = [literalArn ? requested.arn : requested.stagePrefix];
    Statement.push({ Action: "execute-api:Invoke", Effect: "Deny", Resource });
  }
  return { principalId, policyDocument: { Version: "2012-10-17", Statement }, context };
}

/**
 * HTTP API simple response. `isAuthorized: false` gives the client 403. With caching on, HTTP APIs
 * reuse a simple response for every request with the same identity-source values, so with access
 * rules the identity sources must include `$context.httpMethod` and `$context.path` (README).
 */
export function simpleResponse(permitted: boolean, context: AuthorizerContext): SimpleResponse {
  return permitted ? { isAuthorized: true, context } : { isAuthorized: false };
}
