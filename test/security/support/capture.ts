/**
 * Captures everything the handler writes (Powertools Logger JSON lines and EMF metric records go to
 * process.stdout / process.stderr through their own Console) so that tests can read the decision
 * log and metrics, and so that the leak check sees every byte that would reach CloudWatch Logs.
 * Writes that are not JSON lines (jest's own output) pass through untouched.
 */
export interface CapturedOutput {
  /** Every JSON line written since start(), in order. */
  readonly lines: string[];
  /** Lines written since `mark` (a previous lines.length). */
  since(mark: number): string[];
  stop(): void;
}

type Write = typeof process.stdout.write;

/** `retain: false` swallows the handler's lines without keeping them (for memory measurements). */
export function captureOutput(options: { retain?: boolean } = {}): CapturedOutput {
  const retain = options.retain ?? true;
  const lines: string[] = [];
  const originals: [NodeJS.WriteStream, Write][] = [
    [process.stdout, process.stdout.write],
    [process.stderr, process.stderr.write],
  ];
  for (const [stream, original] of originals) {
    const replacement = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
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

/** Parses JSON lines, ignoring any that are not JSON objects. */
export function parseLines(lines: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Metric names carried by the EMF records among `records`, in order. */
export function emfMetricNames(records: readonly Record<string, unknown>[]): string[] {
  const names: string[] = [];
  for (const record of records) {
    const aws = record._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) for (const m of directive.Metrics ?? []) names.push(m.Name);
  }
  return names;
}
