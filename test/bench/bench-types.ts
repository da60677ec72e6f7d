/** One measured figure of a benchmark, with the target it is held to when there is one. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. ">= 50000". */
  target?: string;
  /** Whether the value met the target; absent when there is no target. */
  pass?: boolean;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function atLeast(name: string, value: number, unit: string, minimum: number): BenchFigure {
  return { name, value, unit, target: `>= ${minimum}`, pass: value >= minimum };
}
