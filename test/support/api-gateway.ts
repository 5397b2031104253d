/**
 * What API Gateway makes of an authorizer's answer, decided by an independent IAM evaluator:
 * @cloud-copilot/iam-simulate (a maintained IAM policy simulator), never the product's own code.
 *
 * From AWS's documentation (api-gateway-lambda-authorizer-output, http-api-lambda-authorizer):
 * - a REST answer needs a principalId and a policyDocument; each policy Resource is at most 512
 *   characters; context values are strings, numbers or booleans — otherwise the client gets 500;
 * - the policy is evaluated as an IAM identity policy for `execute-api:Invoke` on the method ARN:
 *   an explicit Deny wins, then any Allow, else an implicit deny (both denials are 403);
 * - an HTTP API simple response is `isAuthorized` true (allowed) or false (403).
 */
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";

export type GatewayVerdict = "Allow" | "Deny" | "Invalid";

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}

/** Why API Gateway would reject this answer as invalid (a 500), or undefined when it is valid. */
export function invalidReason(answer: unknown): string | undefined {
  if (typeof answer !== "object" || answer === null) return "not an object";
  const a = answer as Record<string, unknown>;
  const context = a.context;
  if (context !== undefined) {
    if (typeof context !== "object" || context === null || Array.isArray(context)) return "context is not a map";
    for (const [k, v] of Object.entries(context)) {
      if (!["string", "number", "boolean"].includes(typeof v)) return `context.${k} is ${typeof v}`;
    }
  }
  if ("isAuthorized" in a) return typeof a.isAuthorized === "boolean" ? undefined : "isAuthorized is not a boolean";
  if (typeof a.principalId !== "string" || a.principalId === "") return "no principalId";
  const doc = a.policyDocument as { Version?: unknown; Statement?: unknown } | undefined;
  if (!doc || doc.Version !== "2012-10-17" || !Array.isArray(doc.Statement) || doc.Statement.length === 0) return "no policy statements";
  for (const s of doc.Statement as Statement[]) {
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    if (resources.length === 0) return "a statement without resources";
    for (const r of resources) {
      if (typeof r !== "string") return "a Resource that is not a string";
      if (r.length > 512) return "a Resource longer than 512 characters";
    }
  }
  return undefined;
}

const ACCOUNT = /^arn:[^:]+:execute-api:[^:]+:(\d{12}):/;

/**
 * The simulator reads a `*` in the *request* resource as a wildcard (it also answers "could any
 * matching resource be allowed"), but a method ARN is a plain string: a `*` in it is a character.
 * Replacing it with a private-use character keeps every policy match the same — a policy `*` or `?`
 * matches either character, and no policy literal can be a `*` (it is always a wildcard there) —
 * while no longer letting the request itself act as a pattern. A `?` in a request is literal already.
 */
/**
 * Where the simulator is known to judge differently from IAM, refuse to judge rather than misjudge:
 * a policy Resource with `${…}` (IAM policy variables and the `${*}` `${?}` `${$}` escapes, which the
 * literal-request substitution below would break), and control characters in a Resource or the ARN
 * (the simulator's `*` and `?` never match a line break).
 */
function refuseBlindSpots(statements: Statement[], methodArn: string): void {
  const control = { test: (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) };
  if (control.test(methodArn)) throw new Error(`judgeAnswer cannot judge an ARN with a control character: ${JSON.stringify(methodArn)}`);
  for (const s of statements) {
    for (const r of [s.Resource].flat() as string[]) {
      if (r.includes("${") || control.test(r)) throw new Error(`judgeAnswer cannot judge the Resource ${JSON.stringify(r)}`);
    }
  }
}

function literalRequest(methodArn: string): string {
  return methodArn.replace(/\*/g, "\uE000");
}

/**
 * API Gateway's verdict on `answer` for the request with this method/route ARN. The simulator's
 * unvalidated entry point is used because its ARN validation refuses valid execute-api ARNs such
 * as the root path's `…/GET/`; the evaluation itself is the same.
 */
export function judgeAnswer(answer: unknown, methodArn: string): GatewayVerdict {
  if (invalidReason(answer) !== undefined) return "Invalid";
  const a = answer as { isAuthorized?: boolean; policyDocument?: { Version: string; Statement: Statement[] } };
  if (typeof a.isAuthorized === "boolean") return a.isAuthorized ? "Allow" : "Deny";
  refuseBlindSpots(a.policyDocument?.Statement ?? [], methodArn);
  const accountId = ACCOUNT.exec(methodArn)?.[1];
  if (!accountId) throw new Error(`judgeAnswer: not an execute-api ARN: ${methodArn}`);
  const result = runUnsafeSimulation(
    {
      identityPolicies: [{ name: "authorizer-answer", policy: a.policyDocument as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:iam::${accountId}:role/api-gateway-caller`,
        action: "execute-api:Invoke",
        resource: { resource: literalRequest(methodArn), accountId },
        contextVariables: {},
      },
    } as never,
    {},
  ) as unknown;
  if (result === "Allowed") return "Allow";
  if (result === "ExplicitlyDenied" || result === "ImplicitlyDenied") return "Deny";
  throw new Error(`iam-simulate answered ${JSON.stringify(result).slice(0, 200)}`);
}
