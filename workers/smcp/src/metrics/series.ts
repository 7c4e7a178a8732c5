/**
 * The series API's shape (`GET /admin/v1/tenants/{t}/servers/{s}/series?range=1h|24h`),
 * which the dashboard's charts read: a fixed number of steps ending with the step that
 * holds now, oldest first, every step present (zero when idle). Percentiles are estimated
 * from each step's summed latency buckets (metrics/histogram.ts `quantileMs`).
 */
import { quantileMs } from "./histogram";
import { MINUTE_MS } from "./delta";
import type { SeriesStep } from "../tenant/metrics-rollup";

export const SERIES_RANGES = { "1h": { stepSeconds: 60, points: 60 }, "24h": { stepSeconds: 900, points: 96 } } as const;
export type SeriesRange = keyof typeof SERIES_RANGES;
export const isSeriesRange = (v: unknown): v is SeriesRange => typeof v === "string" && Object.hasOwn(SERIES_RANGES, v);

export interface SeriesPoint {
  t: string;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface ServerSeries {
  tenant: string;
  server: string;
  range: SeriesRange;
  stepSeconds: number;
  points: SeriesPoint[];
}

/** Where the steps of `range` start at `now`: the last step holds now. */
export function seriesWindow(range: SeriesRange, now: number): { from: number; stepMs: number; count: number } {
  const { stepSeconds, points } = SERIES_RANGES[range];
  const stepMs = stepSeconds * 1000;
  const current = now - (now % stepMs);
  if (stepMs % MINUTE_MS !== 0) throw new Error("a series step must be whole minutes");
  return { from: current - (points - 1) * stepMs, stepMs, count: points };
}

export function pointOf(step: SeriesStep): SeriesPoint {
  return {
    t: new Date(step.t).toISOString(),
    requests: step.requests,
    errors: step.errors,
    p50Ms: quantileMs(step.buckets, 0.5),
    p95Ms: quantileMs(step.buckets, 0.95),
    p99Ms: quantileMs(step.buckets, 0.99),
  };
}
