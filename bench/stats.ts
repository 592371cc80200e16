/** p50 and p99 of a set of samples. */
export interface Spread {
  p50: number;
  p99: number;
}

/** Nearest-rank percentiles; NaN when there are no samples. */
export function spread(samples: readonly number[]): Spread {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: at(50), p99: at(99) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
