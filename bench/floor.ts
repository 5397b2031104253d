/**
 * The floor of a decision (issue 12): what any decision must pay. Split the token, base64url-decode
 * its signature, crypto.verify with a prepared KeyObject, then one Powertools Logger.info line and
 * one EMF flush of one metric. Without `observed`, the crypto part alone.
 */
import { type KeyObject, verify } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export function createFloor(publicKey: KeyObject, observed: boolean): (token: string) => void {
  const logger = observed ? new Logger({ serviceName: "bench-floor" }) : undefined;
  const metrics = observed ? new Metrics({ serviceName: "bench-floor", namespace: "BenchFloor" }) : undefined;
  return (token) => {
    const [head, payload, signature] = token.split(".");
    if (!verify("sha256", Buffer.from(`${head}.${payload}`), publicKey, Buffer.from(signature, "base64url"))) throw new Error("bad signature");
    if (!logger || !metrics) return;
    logger.info("floor", { decision: "Allow" });
    metrics.addMetric("Allow", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  };
}
