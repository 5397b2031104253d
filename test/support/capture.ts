import type { Context } from "aws-lambda";

/** One JSON line a handler wrote to stdout: a Powertools log record or an EMF metrics record. */
export type OutputRecord = Record<string, unknown>;

export interface Captured<T> {
  readonly result?: T;
  readonly error?: Error;
  /** Every line written to stdout while the call ran. */
  readonly lines: string[];
  readonly records: OutputRecord[];
}

/**
 * Runs fn with the JSON lines it writes to stdout and stderr captured (not echoed) — Powertools
 * writes INFO logs and EMF to stdout, WARN/ERROR logs to stderr, and Lambda ships both — returning
 * its result or error and those lines. Anything else (jest's own reporter when it runs in this
 * process) passes through.
 */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (!text.startsWith("{")) return (originals[i] as (...args: unknown[]) => boolean)(chunk, ...rest);
      chunks.push(text);
      const callback = rest.find((r): r is () => void => typeof r === "function");
      callback?.();
      return true;
    }) as typeof stream.write;
  });
  let result: T | undefined;
  let error: Error | undefined;
  try {
    result = await fn();
  } catch (err) {
    error = err as Error;
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i];
    });
  }
  const lines = chunks.join("").split("\n").filter((l) => l.trim() !== "");
  const records = lines.map((l) => JSON.parse(l) as OutputRecord);
  return { ...(error ? { error } : { result: result as T }), lines, records };
}

/** The EMF records among the output: those carrying CloudWatch metric directives. */
export function emfRecords(records: OutputRecord[]): OutputRecord[] {
  return records.filter((r) => typeof r._aws === "object" && r._aws !== null);
}

/** Metric name → summed value over all EMF records, with the namespace each came from. */
export function emittedMetrics(records: OutputRecord[]): Record<string, { value: number; namespace: string; dimensions: string[] }> {
  const out: Record<string, { value: number; namespace: string; dimensions: string[] }> = {};
  for (const record of emfRecords(records)) {
    const aws = record._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    for (const directive of aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) {
        const value = Number(record[metric.Name]);
        const prev = out[metric.Name]?.value ?? 0;
        out[metric.Name] = { value: prev + value, namespace: directive.Namespace, dimensions: directive.Dimensions.flat() };
      }
    }
  }
  return out;
}

/** Log records (Powertools Logger lines) with the given message. */
export function logRecords(records: OutputRecord[], message: string): OutputRecord[] {
  return records.filter((r) => r.message === message);
}

export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "jwt-authorizer-test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jwt-authorizer-test",
    memoryLimitInMB: "256",
    awsRequestId: "6f1c7a3e-0000-4000-8000-00000000c0de",
    logGroupName: "/aws/lambda/jwt-authorizer-test",
    logStreamName: "2026/11/24/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => 5000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}
