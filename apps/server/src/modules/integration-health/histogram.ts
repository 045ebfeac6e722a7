/**
 * Fixed-bucket histograms: a minute's counts per bucket add up into any window, so a window's
 * percentiles come from its minutes without keeping every sample. A percentile is the upper
 * bound of the bucket it falls in (an over-estimate by at most one bucket); the last bucket is
 * open, reported as its lower bound.
 */
export type Histogram = number[];

/** API-1 latency buckets, upper bounds in ms. */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

/** Order to final status, upper bounds in ms (10 s … 1 day). */
export const DURATION_BOUNDS_MS = [
  10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 86_400_000,
] as const;

export const emptyHistogram = (bounds: readonly number[]): Histogram => new Array(bounds.length + 1).fill(0);

export function record(h: Histogram, bounds: readonly number[], value: number): void {
  let i = bounds.findIndex((b) => value <= b);
  if (i < 0) i = bounds.length;
  h[i] = (h[i] ?? 0) + 1;
}

export function merge(into: Histogram, other: Histogram): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (other[i] ?? 0);
}

/** q in (0, 1]; null for an empty histogram. */
export function percentile(h: Histogram, bounds: readonly number[], q: number): number | null {
  const total = h.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i] ?? 0;
    if (seen >= rank) return bounds[Math.min(i, bounds.length - 1)] ?? null;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** Reads a stored histogram; a malformed or short one counts as empty buckets. */
export function parseHistogram(text: string, bounds: readonly number[]): Histogram {
  const h = emptyHistogram(bounds);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return h;
  }
  if (Array.isArray(v))
    for (let i = 0; i < h.length; i++) h[i] = Number.isSafeInteger(v[i]) ? (v[i] as number) : 0;
  return h;
}
