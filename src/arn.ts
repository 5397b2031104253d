/**
 * API Gateway execute-api ARNs:
 *   arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{resource path}
 * REST APIs send it as `methodArn`, HTTP APIs as `routeArn`.
 */
export interface MethodArn {
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}`: every policy resource starts with it. */
  readonly stagePrefix: string;
  /** The HTTP verb. Whatever stands in its place when it is not one (no access rule matches it then). */
  readonly method: string;
  /** The request path without its leading slash ("" for the root). */
  readonly path: string;
  /** The ARN as API Gateway sent it. */
  readonly arn: string;
}

/** API Gateway caps the method ARN at 1600 bytes. */
export const MAX_METHOD_ARN_LENGTH = 1600;

/** Stage names are letters, digits, `_` and `-`, or HTTP APIs' `$default`. */
const ARN = /^(arn:aws[\w-]*:execute-api:[\w-]+:\d{12}:\w+\/[\w$-]+)\/([^/]+)(?:\/(.*))?$/s;

/** Parses a method/route ARN, or returns undefined when it is not one. */
export function parseMethodArn(arn: unknown): MethodArn | undefined {
  if (typeof arn !== "string" || arn.length > MAX_METHOD_ARN_LENGTH) return undefined;
  const match = ARN.exec(arn);
  if (!match) return undefined;
  return { stagePrefix: match[1], method: match[2], path: match[3] ?? "", arn };
}
