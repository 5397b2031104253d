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
  readonly context?: AuthorizerContext;
}

/** HTTP API payload 2.0 simple response. */
export interface SimpleResponse {
  readonly isAuthorized: boolean;
  readonly context?: AuthorizerContext;
}

export type AuthorizerResponse = PolicyResponse | SimpleResponse;

/**
 * The policy for a verified caller. It allows every resource the caller may reach (so the copy
 * API Gateway caches for this token serves all routes correctly) and, when the requested method is
 * not among them, explicitly denies that one method ARN — a denial that stays true for this token.
 */
export function policyResponse(
  principalId: string,
  allowed: readonly string[],
  requested: MethodArn,
  permitted: boolean,
  context: AuthorizerContext,
): PolicyResponse {
  const Statement: PolicyStatement[] = [];
  if (allowed.length > 0) Statement.push({ Action: "execute-api:Invoke", Effect: "Allow", Resource: [...allowed] });
  if (!permitted) Statement.push({ Action: "execute-api:Invoke", Effect: "Deny", Resource: [requested.arn] });
  return {
    principalId,
    policyDocument: { Version: "2012-10-17", Statement },
    ...(permitted ? { context } : {}),
  };
}

/**
 * HTTP API simple response. `isAuthorized: false` gives the client 403. With caching on, HTTP APIs
 * reuse a simple response for every route unless `$context.routeKey` is an identity source.
 */
export function simpleResponse(permitted: boolean, context: AuthorizerContext): SimpleResponse {
  return permitted ? { isAuthorized: true, context } : { isAuthorized: false };
}
