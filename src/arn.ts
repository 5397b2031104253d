/**
 * API Gateway execute-api ARNs:
 *   arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{resource path}
 * REST APIs send it as `methodArn`, HTTP APIs as `routeArn`.
 */
export interface MethodArn {
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}`: every policy resource starts with it. */
  readonly stagePrefix: string;
  readonly method: string;
  /** The request path without its leading slash ("" for the root). */
  readonly path: string;
  /** The ARN as API Gateway sent it. */
  readonly arn: string;
}

/** API Gateway caps the method ARN at 1600 bytes. */
export const MAX_METHOD_ARN_LENGTH = 1600;

const ARN = /^(arn:aws[\w-]*:execute-api:[\w-]+:\d{12}:[\w]+\/[^/]+)\/([A-Z*]+)\/(.*)$/;

/** Parses a method/route ARN, or returns undefined when it is not one. */
export function parseMethodArn(arn: unknown): MethodArn | undefined {
  if (typeof arn !== "string" || arn.length > MAX_METHOD_ARN_LENGTH) return undefined;
  const match = ARN.exec(arn);
  if (!match) return undefined;
  return { stagePrefix: match[1], method: match[2], path: match[3], arn };
}

const compiled = new Map<string, RegExp>();

/**
 * Whether an IAM policy resource pattern matches an ARN, the way API Gateway evaluates
 * authorizer policies: `*` matches any run of characters (slashes included), `?` one character.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${source}$`, "s");
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(arn);
}
