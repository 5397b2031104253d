import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { type Authorizer, createAuthorizer, failingAuthorizer, type Outcome } from "./authorizer";
import { createBindingCheck } from "./binding";
import { type Env, loadConfig } from "./config";
import { reasonOf, withoutStackTrace } from "./errors";
import type { Observability } from "./observability";
import type { AuthorizerResponse } from "./response";
import type { RefreshFailure } from "./jwks";
import { createVerifier, type VerifierDeps } from "./verifier";

/** The exact message API Gateway turns into a 401. */
export const UNAUTHORIZED = "Unauthorized";
/** Any other thrown message is a 500 to the client; this one says nothing about why. */
export const INTERNAL_ERROR = "Authorizer error";
/** Counted once per failed key-set refresh whose cached keys were kept (published with that request's decision). */
export const JWKS_REFRESH_FAILED = "JwksRefreshFailed";

export interface HandlerDeps extends Observability {
  readonly authorizer: Authorizer;
  /** The key-set prefetch started at init; settled (never rejected) before the first decision. */
  readonly ready: Promise<unknown>;
  /** Monotonic milliseconds, for latency. */
  readonly clock?: () => number;
}

export type AuthorizerHandler = (event: unknown, context?: Context) => Promise<AuthorizerResponse>;

/** Logs (WARN) and counts (JwksRefreshFailed) a failed key-set refresh whose cached keys were kept. */
export function refreshFailureReporter({ logger, metrics }: Observability): (failure: RefreshFailure) => void {
  return (failure) => {
    logger.warn("JWKS refresh failed; keeping the cached keys", {
      reason: reasonOf(failure.error),
      error: (failure.error as Error)?.message,
      jwksUri: failure.uri,
      staleForSeconds: Math.round(failure.staleForMs / 1000),
      graceLeftSeconds: Math.round(failure.graceLeftMs / 1000),
    });
    metrics.addMetric(JWKS_REFRESH_FAILED, MetricUnit.Count, 1);
  };
}

/**
 * Builds the container's dependencies once: validated config, verifiers, the key-set prefetch.
 * A configuration error does not crash the container; it is logged here once and every request
 * then fails as our error (500, counted as Error), so the Error alarm fires.
 */
export function initialize(env: Env, observability: Observability, verifierDeps: VerifierDeps = {}): HandlerDeps {
  const { logger } = observability;
  try {
    const config = loadConfig(env);
    const verifier = createVerifier(config, { onJwksRefreshFailure: refreshFailureReporter(observability), ...verifierDeps });
    const ready = verifier.hydrate().then((failures) => {
      for (const failure of failures) {
        logger.warn("JWKS prefetch failed; keys will be fetched on demand", {
          reason: reasonOf(failure),
          error: (failure as Error)?.message,
        });
      }
    });
    const checkBinding = createBindingCheck(config, { now: verifierDeps.now });
    return { ...observability, authorizer: createAuthorizer(config, verifier, checkBinding), ready };
  } catch (err) {
    logger.error("Invalid configuration: every request will fail with a 500 until it is fixed", {
      reason: reasonOf(err),
      error: (err as Error)?.message,
    });
    return { ...observability, authorizer: failingAuthorizer(err), ready: Promise.resolve() };
  }
}

/**
 * The error API Gateway turns into a 401: exactly this message. A bad token is expected traffic and
 * nothing reads this error's stack, so none is captured.
 */
const unauthorized = (): Error => withoutStackTrace(() => new Error(UNAUTHORIZED));

/** Records one outcome: exactly one decision metric, one decision log line, one trace annotation. */
function observe(deps: HandlerDeps, outcome: Outcome, latencyMs: number): void {
  deps.metrics.addMetric(outcome.decision, MetricUnit.Count, 1);
  deps.tracer?.putAnnotation("decision", outcome.decision);
  const fields = {
    decision: outcome.decision,
    reason: outcome.reason,
    principalId: outcome.principal?.sub,
    clientId: outcome.principal?.clientId,
    eventType: outcome.request?.kind,
    route: outcome.request?.route,
    correlation_id: outcome.request?.requestId,
    latencyMs: Math.round(latencyMs * 1000) / 1000,
  };
  if (outcome.decision === "Error") {
    // Two attribute objects, which the Logger merges in order, rather than `{ ...fields, error }`:
    // Node 20's V8 keeps objects of that spread-then-add shape alive into the old generation (see
    // scripts/logger-patch.cjs), and during an outage every decision is an Error.
    deps.logger.error("decision", fields, { error: (outcome.error as Error)?.message });
  } else {
    deps.logger.info("decision", fields);
  }
}

/**
 * Monotonic milliseconds from process.hrtime. Not `performance.now()`: the first touch of the
 * `performance` global loads perf_hooks (~1 ms), which landed on the first request's cold path.
 */
function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** The Lambda handler: wiring only. extract → verify → decide → respond, then observe and flush. */
export function createHandler(deps: HandlerDeps): AuthorizerHandler {
  const clock = deps.clock ?? monotonicMs;
  const { logger, metrics, tracer, stdout } = deps;
  return async (event, context) => {
    const started = clock();
    let corked = false;
    const segment = tracer?.getSegment();
    const subsegment = segment?.addNewSubsegment("## handler");
    if (tracer && subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      if (context) logger.addContext(context);
      metrics.captureColdStartMetric(context?.functionName);
      await deps.ready;
      const outcome = await deps.authorizer.authorize(event);
      // From here to the end of `finally` nothing awaits: the decision line and the EMF record are
      // written to stdout in one batch (one writev on a pipe instead of two writes), and no other
      // invocation's records can fall inside it. (An Error decision's line is logged at ERROR, which
      // Powertools writes to stderr: that one is not in the batch.)
      stdout?.cork();
      corked = stdout !== undefined;
      observe(deps, outcome, clock() - started);
      if (outcome.decision === "Expired" || outcome.decision === "Invalid") throw unauthorized();
      if (outcome.decision === "Error" || !outcome.response) throw new Error(INTERNAL_ERROR);
      return outcome.response;
    } finally {
      try {
        metrics.publishStoredMetrics();
      } finally {
        // Even if the flush throws: a stream left corked would hold every later record in memory.
        if (corked) stdout?.uncork();
      }
      if (tracer && segment && subsegment) {
        subsegment.close();
        tracer.setSegment(segment);
      }
    }
  };
}
