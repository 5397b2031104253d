import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, type Env } from "./config";

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Undefined where tracing is off (outside Lambda, under SAM local, or POWERTOOLS_TRACE_ENABLED=false). */
  readonly tracer?: Tracer;
  /**
   * The stream Logger and Metrics write their records to (process.stdout). The handler corks it
   * around one decision's records, so the decision line and the EMF record leave in one write.
   */
  readonly stdout?: Corkable;
}

/** What the handler needs of a Writable to batch a decision's records: Node's cork/uncork. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

const setting = (env: Env, name: string, fallback: string): string => env[name]?.trim() || fallback;

/**
 * Mirrors the Tracer's own rule for switching itself off, so that where it would be off its
 * module (aws-xray-sdk-core and friends) is never even loaded: no cost on the cold path.
 */
export function tracingWanted(env: Env): boolean {
  if (env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() === "false") return false;
  if (env.AWS_SAM_LOCAL) return false;
  const executionEnv = env.AWS_EXECUTION_ENV;
  return Boolean(executionEnv) && executionEnv !== "AWS_Lambda_amplify-mock";
}

/** The one Logger, Metrics and (when wanted) Tracer of this container. */
export function createObservability(env: Env): Observability {
  const serviceName = setting(env, "POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE_NAME);
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: setting(env, "POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE),
  });
  const stdout = process.stdout;
  if (!tracingWanted(env)) return { logger, metrics, stdout };
  // Loaded on demand: see tracingWanted.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Tracer: TracerClass } = require("@aws-lambda-powertools/tracer") as typeof import("@aws-lambda-powertools/tracer");
  return { logger, metrics, stdout, tracer: new TracerClass({ serviceName }) };
}
