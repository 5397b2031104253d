/**
 * The `$context` variables API Gateway documents for access logs, written out from the AWS
 * documentation (an oracle independent of the template; names only, no descriptions):
 *
 * - REST APIs: "Variables for access logging for API Gateway"
 *   (docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html),
 *   and the older "API Gateway mapping template and access logging variable reference"
 *   (awsdocs/amazon-api-gateway-developer-guide, doc_source/api-gateway-mapping-template-reference.md),
 *   whose variables are all usable in access logs.
 * - HTTP APIs: "Customize HTTP API access logs"
 *   (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html;
 *   doc_source/http-api-logging-variables.md). One published version of that page also lists
 *   `$context.authorizer.latency` and `$context.authorizer.status`, another does not: they are left
 *   out here, so the template must not rely on them for HTTP APIs.
 *
 * Variables with a free part (`$context.authorizer.{property}`, `$context.authorizer.claims.{property}`,
 * `$context.requestOverride.…`) are left out too: a misspelt name would pass as such a property.
 */

const REST_ACCESS_LOG = [
  "accountId",
  "apiId",
  "authorize.error",
  "authorize.latency",
  "authorize.status",
  "authorizer.error",
  "authorizer.integrationLatency",
  "authorizer.integrationStatus",
  "authorizer.latency",
  "authorizer.principalId",
  "authorizer.requestId",
  "authorizer.status",
  "awsEndpointRequestId",
  "domainName",
  "domainPrefix",
  "error.message",
  "error.messageString",
  "error.responseType",
  "error.validationErrorString",
  "extendedRequestId",
  "httpMethod",
  "identity.accountId",
  "identity.apiKey",
  "identity.apiKeyId",
  "identity.caller",
  "identity.cognitoAuthenticationProvider",
  "identity.cognitoAuthenticationType",
  "identity.cognitoIdentityId",
  "identity.cognitoIdentityPoolId",
  "identity.principalOrgId",
  "identity.sourceIp",
  "identity.user",
  "identity.userAgent",
  "identity.userArn",
  "integrationLatency",
  "integrationStatus",
  "path",
  "protocol",
  "requestId",
  "requestTime",
  "requestTimeEpoch",
  "resourceId",
  "resourcePath",
  "responseLatency",
  "responseLength",
  "stage",
  "status",
  "wafResponseCode",
  "webaclArn",
  "xrayTraceId",
] as const;

const HTTP_ACCESS_LOG = [
  "accountId",
  "apiId",
  "authorizer.error",
  "authorizer.principalId",
  "awsEndpointRequestId",
  "awsEndpointRequestId2",
  "dataProcessed",
  "domainName",
  "domainPrefix",
  "error.message",
  "error.messageString",
  "error.responseType",
  "extendedRequestId",
  "httpMethod",
  "identity.accountId",
  "identity.caller",
  "identity.cognitoAuthenticationProvider",
  "identity.cognitoAuthenticationType",
  "identity.cognitoIdentityId",
  "identity.cognitoIdentityPoolId",
  "identity.principalOrgId",
  "identity.clientCert.clientCertPem",
  "identity.clientCert.subjectDN",
  "identity.clientCert.issuerDN",
  "identity.clientCert.serialNumber",
  "identity.clientCert.validity.notBefore",
  "identity.clientCert.validity.notAfter",
  "identity.sourceIp",
  "identity.user",
  "identity.userAgent",
  "identity.userArn",
  "integration.error",
  "integration.integrationStatus",
  "integration.latency",
  "integration.requestId",
  "integration.status",
  "integrationErrorMessage",
  "integrationLatency",
  "integrationStatus",
  "path",
  "protocol",
  "requestId",
  "requestTime",
  "requestTimeEpoch",
  "responseLatency",
  "responseLength",
  "routeKey",
  "stage",
  "status",
] as const;

export type ApiKind = "REST" | "HTTP";

export const DOCUMENTED_ACCESS_LOG_VARIABLES: Readonly<Record<ApiKind, ReadonlySet<string>>> = {
  REST: new Set(REST_ACCESS_LOG.map((v) => `$context.${v}`)),
  HTTP: new Set(HTTP_ACCESS_LOG.map((v) => `$context.${v}`)),
};

/**
 * Problems with an access-log format meant to be JSON: it must parse as one flat object whose
 * every value is exactly one documented `$context` variable, and it must include
 * `$context.requestId` (AWS: "access log format must include $context.requestId").
 */
export function accessLogFormatProblems(kind: ApiKind, format: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(format);
  } catch (err) {
    return [`not JSON: ${(err as Error).message}`];
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return ["not a JSON object"];
  const problems: string[] = [];
  const values = Object.entries(parsed as Record<string, unknown>);
  for (const [key, value] of values) {
    if (typeof value !== "string" || !/^\$context\.[A-Za-z0-9.]+$/.test(value)) {
      problems.push(`${key}: ${JSON.stringify(value)} is not one $context variable`);
    } else if (!DOCUMENTED_ACCESS_LOG_VARIABLES[kind].has(value)) {
      problems.push(`${key}: ${value} is not a documented ${kind} API access-log variable`);
    }
  }
  if (!values.some(([, v]) => v === "$context.requestId")) problems.push("$context.requestId is missing");
  return problems;
}
