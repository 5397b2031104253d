import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { ClaimShapeError } from "./errors";

/** The verified caller, normalised from Cognito or generic OIDC claims. */
export interface Principal {
  readonly sub: string;
  readonly username?: string;
  readonly clientId?: string;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly tokenUse?: string;
  readonly issuer: string;
}

function optionalString(payload: JwtPayload, claim: string): string | undefined {
  const v = payload[claim];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new ClaimShapeError(`claim ${claim} must be a string`);
  return v;
}

/** Reads the claims the decision and the context rely on; a claim of the wrong type is a 401. */
export function principalOf(payload: JwtPayload): Principal {
  const groups = payload["cognito:groups"];
  if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => typeof g !== "string"))) {
    throw new ClaimShapeError("claim cognito:groups must be an array of strings");
  }
  const aud = payload.aud;
  const clientId = optionalString(payload, "client_id") ?? (typeof aud === "string" ? aud : aud?.[0]);
  const sub = payload.sub ?? clientId;
  if (!sub) throw new ClaimShapeError("token has neither sub nor a client id");
  const username = optionalString(payload, "username") ?? optionalString(payload, "cognito:username");
  const tokenUse = optionalString(payload, "token_use");
  return {
    sub,
    ...(username !== undefined ? { username } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    scopes: payload.scope ? payload.scope.split(" ").filter(Boolean) : [],
    groups: (groups as string[] | undefined) ?? [],
    ...(tokenUse !== undefined ? { tokenUse } : {}),
    issuer: payload.iss ?? "",
  };
}

export type AuthorizerContext = Record<string, string | number | boolean>;

/**
 * The context API Gateway hands to the backend: primitives only (an object or array there makes
 * API Gateway answer 500), and `claims` as one JSON string, the shape existing backends parse.
 */
export function contextOf(principal: Principal, payload: JwtPayload): AuthorizerContext {
  const context: AuthorizerContext = {
    sub: principal.sub,
    scope: principal.scopes.join(" "),
    groups: principal.groups.join(","),
    issuer: principal.issuer,
    claims: JSON.stringify(payload),
  };
  if (principal.username !== undefined) context.username = principal.username;
  if (principal.clientId !== undefined) context.clientId = principal.clientId;
  if (principal.tokenUse !== undefined) context.tokenUse = principal.tokenUse;
  return context;
}
