/** Summary statistics of repeated measurements (the bench reports every figure this way). */
export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

export function stat(values: readonly number[]): Stat {
  if (values.length === 0) throw new Error("no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], rounds: sorted.length };
}
