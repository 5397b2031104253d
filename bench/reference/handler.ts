/**
 * The cold-start and memory reference: just aws-jwt-verify and the three Powertools packages,
 * constructed bare, answering a TOKEN or REQUEST event with an Allow for the requested method.
 * It does the same work a decision must (key-set prefetch at init, verify, one log line, one EMF
 * flush) with nothing of ours around it. Built by the bench with the same esbuild settings as dist/.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { JwtVerifier } from "aws-jwt-verify";

const verifier = JwtVerifier.create({
  issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${process.env.USER_POOL_ID}`,
  audience: null,
  jwksUri: process.env.JWKS_URI,
});
const logger = new Logger();
const metrics = new Metrics({ namespace: "Reference" });
export const tracer = new Tracer();
const ready = verifier.hydrate();

interface Event {
  readonly type: string;
  readonly methodArn: string;
  readonly authorizationToken?: string;
  readonly headers?: Record<string, string>;
}

export const handler = async (event: Event) => {
  await ready;
  const authorization = event.type === "TOKEN" ? event.authorizationToken : event.headers?.Authorization;
  const payload = await verifier.verify(String(authorization).slice("Bearer ".length));
  logger.info("decision", { decision: "Allow", principalId: payload.sub });
  metrics.addMetric("Allow", MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return {
    principalId: payload.sub,
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: [event.methodArn] }] },
  };
};
