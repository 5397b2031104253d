/**
 * The one capture of what a handler writes. Powertools writes INFO logs and EMF to stdout, WARN/ERROR
 * logs to stderr (Lambda ships both), each as one JSON line; those lines are kept (not echoed), so that
 * tests read the decision log and metrics and leak checks see every byte that would reach CloudWatch
 * Logs. Writes that are not JSON lines (jest's own reporter when it runs in this process) pass through.
 */
import type { Context } from "aws-lambda";

/** One JSON line a handler wrote: a Powertools log record or an EMF metrics record. */
export type OutputRecord = Record<string, unknown>;

export interface CapturedOutput {
  /** Every JSON line written since the capture started, in order. */
  readonly lines: string[];
  /** Lines written since `mark` (a previous lines.length). */
  since(mark: number): string[];
  stop(): void;
}

type Write = typeof process.stdout.write;

/** Starts capturing; `retain: false` swallows the lines without keeping them (for memory measurements). */
export function captureOutput(options: { retain?: boolean } = {}): CapturedOutput {
  const retain = options.retain ?? true;
  const lines: string[] = [];
  const originals: [NodeJS.WriteStream, Write][] = [
    [process.stdout, process.stdout.write],
    [process.stderr, process.stderr.write],
  ];
  for (const [stream, original] of originals) {
    const replacement = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
      if (text.trimStart().startsWith("{")) {
        if (retain) for (const line of text.split("\n")) if (line.trim() !== "") lines.push(line);
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        callback?.();
        return true;
      }
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    };
    stream.write = replacement as Write;
  }
  return {
    lines,
    since: (mark) => lines.slice(mark),
    stop() {
      for (const [stream, original] of originals) stream.write = original;
    },
  };
}

export interface Captured<T> {
  readonly result?: T;
  readonly error?: Error;
  /** Every JSON line written while the call ran. */
  readonly lines: string[];
  readonly records: OutputRecord[];
}

/** Runs fn under a capture, returning its result or error and the JSON lines it wrote. */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const output = captureOutput();
  let result: T | undefined;
  let error: Error | undefined;
  try {
    result = await fn();
  } catch (err) {
    error = err as Error;
  } finally {
    output.stop();
  }
  const lines = output.lines;
  const records = lines.map((l) => JSON.parse(l) as OutputRecord);
  return { ...(error ? { error } : { result: result as T }), lines, records };
}

/** Parses JSON lines, ignoring any that are not JSON objects. */
export function parseLines(lines: readonly string[]): OutputRecord[] {
  const out: OutputRecord[] = [];
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) out.push(v as OutputRecord);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** One metric value an EMF record carries, with the namespace and dimensions of its directive. */
export interface EmfMetric {
  readonly name: string;
  readonly value: number;
  readonly namespace: string;
  /** Every dimension name of the directive's dimension sets, flattened. */
  readonly dimensions: string[];
  /** Each dimension set with the values the record gives its names. */
  readonly dimensionSets: Record<string, string>[];
}

/** The one EMF parser: every metric of every EMF record among `records`, in order. */
export function emfMetrics(records: readonly OutputRecord[]): EmfMetric[] {
  const out: EmfMetric[] = [];
  for (const record of records) {
    const aws = record._aws as { CloudWatchMetrics?: { Namespace: string; Dimensions?: string[][]; Metrics?: { Name: string }[] }[] } | undefined;
    if (typeof aws !== "object" || aws === null) continue;
    for (const directive of aws.CloudWatchMetrics ?? []) {
      const sets = directive.Dimensions ?? [];
      const dimensionSets = sets.map((set) => Object.fromEntries(set.map((name) => [name, String(record[name])])));
      for (const metric of directive.Metrics ?? []) {
        out.push({ name: metric.Name, value: Number(record[metric.Name]), namespace: directive.Namespace, dimensions: sets.flat(), dimensionSets });
      }
    }
  }
  return out;
}

/** The EMF records among the output: those carrying CloudWatch metric directives. */
export function emfRecords(records: OutputRecord[]): OutputRecord[] {
  return records.filter((r) => typeof r._aws === "object" && r._aws !== null);
}

/** Metric name → summed value over all EMF records, with the namespace each came from. */
export function emittedMetrics(records: OutputRecord[]): Record<string, { value: number; namespace: string; dimensions: string[] }> {
  const out: Record<string, { value: number; namespace: string; dimensions: string[] }> = {};
  for (const m of emfMetrics(records)) out[m.name] = { value: (out[m.name]?.value ?? 0) + m.value, namespace: m.namespace, dimensions: m.dimensions };
  return out;
}

/** Metric names carried by the EMF records among `records`, in order. */
export function emfMetricNames(records: readonly OutputRecord[]): string[] {
  return emfMetrics(records).map((m) => m.name);
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
