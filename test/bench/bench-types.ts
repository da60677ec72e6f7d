/** The synthetic org's sizes (test/bench/synthetic-org.ts): large = 10,000 payees and 1,000,000 deals, each smaller size ten times smaller. */
export type BenchSize = 'small' | 'medium' | 'large';
export const benchSizes: readonly BenchSize[] = ['small', 'medium', 'large'];

/** One measured figure of a benchmark, with the target it is held to when there is one. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. ">= 50000". */
  target?: string;
  /** Whether the value met the target; absent when there is no target. */
  pass?: boolean;
  /**
   * The size the target is defined at. At any other size the runner prints the target as n/a and does not judge
   * the figure. Absent: the target holds at every size.
   */
  targetSize?: BenchSize;
  /** A row that is not a measurement, e.g. "not supported" or "skipped: needs Kafka": printed instead of the value. */
  note?: string;
}

/**
 * What the runner passes to a benchmark: the size to generate (undefined: the benchmark's own default, the size its
 * targets are defined at). A benchmark may ignore it. Each call is one run: the runner repeats the call and reports
 * the median, min and max of every figure.
 */
export interface BenchRunOptions {
  size?: BenchSize;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function atLeast(name: string, value: number, unit: string, minimum: number, targetSize?: BenchSize): BenchFigure {
  return { name, value, unit, target: `>= ${minimum}`, pass: value >= minimum, targetSize };
}

export function atMost(name: string, value: number, unit: string, maximum: number, targetSize?: BenchSize): BenchFigure {
  return { name, value: Math.round(value * 100) / 100, unit, target: `<= ${maximum}`, pass: value <= maximum, targetSize };
}
