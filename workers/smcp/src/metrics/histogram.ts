/**
 * Latency histograms with fixed bucket bounds, shared by every recorder, the tenant's
 * minute rows, the Prometheus exposition and the series API. Fixed bounds make
 * histograms of different sessions, isolates and minutes add by plain element-wise
 * sums, which is what lets a report be one upsert and a 24-hour series one SQL sum.
 */

/** Upper bounds (inclusive, in ms) of the finite buckets; one more bucket holds everything above (`+Inf`). */
export const BUCKET_BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
/** Buckets per histogram: the finite ones plus `+Inf`. */
export const BUCKETS = BUCKET_BOUNDS_MS.length + 1;

/** The bucket a duration falls in (Prometheus' `le`: a value equal to a bound belongs to that bound's bucket). */
export function bucketIndex(ms: number): number {
  for (let i = 0; i < BUCKET_BOUNDS_MS.length; i++) if (ms <= BUCKET_BOUNDS_MS[i]!) return i;
  return BUCKET_BOUNDS_MS.length;
}

/**
 * The `q`-quantile (0 < q < 1) estimated from per-bucket counts (not cumulative), in ms,
 * the way Prometheus' `histogram_quantile` does it: find the bucket where the rank
 * `q * total` falls and interpolate linearly between its lower and upper bound (the
 * first bucket's lower bound is 0). A rank in the `+Inf` bucket answers the highest
 * finite bound, since nothing is known above it. Null when there are no observations.
 */
export function quantileMs(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((t, n) => t + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && below + n >= rank) {
      if (i >= BUCKET_BOUNDS_MS.length) return BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.length - 1]!;
      const lower = i === 0 ? 0 : BUCKET_BOUNDS_MS[i - 1]!;
      const upper = BUCKET_BOUNDS_MS[i]!;
      return Math.round((lower + ((upper - lower) * (rank - below)) / n) * 100) / 100;
    }
    below += n;
  }
  return BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.length - 1]!;
}
