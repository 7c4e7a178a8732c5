/**
 * The tenant's side of the metrics pipeline: it folds what sessions report (their deltas
 * ride in the report they already send, tenant/session-index.ts applies it once per seq)
 * and what isolates flush (the stateless lane and Worker-level refusals,
 * metrics/isolate-sink.ts) into the rollups (tenant/metrics-rollup.ts), prunes old
 * minutes on the tenant's alarm, and answers the exposition and the series API.
 *
 * Gauges are read live for the scrape: live sessions and event-log bytes from the session
 * index (fed by the same reports), sandbox instances as sessions of servers whose active
 * deployment is an SDK server (one instance each), upstream reachability from the last
 * probe (tenant/upstream-health.ts); a sample per minute is kept beside the rollups,
 * written in the same transaction as the report or probe that changed it.
 */
import { MAX_DELTAS } from "./report-batch";
import { isDelta, OTHER_TOOL, type MetricsDelta } from "../metrics/delta";
import { quantileMs } from "../metrics/histogram";
import { pointOf, seriesWindow, type SeriesRange, type SeriesPoint } from "../metrics/series";
import { MetricsRollup, PRUNE_INTERVAL_MS, type SeriesTotals } from "./metrics-rollup";
import type { SessionIndex } from "./session-index";
import type { SessionUpdate } from "./types";

/** KV key: when the alarm next prunes old minutes (absent: nothing armed yet). */
export const METRICS_PRUNE_KEY = "metricsPruneAt";
/** Servers one isolate flush may carry. */
export const MAX_FLUSH_SERVERS = 32;
const RECENT_MS = 24 * 60 * 60_000;

/** One isolate's counts for one tenant: per server it names (checked against the enabled servers here). */
export interface IsolateFlush {
  servers: { server: string; delta: MetricsDelta }[];
}

export interface ServerGauges {
  server: string;
  sessions: number;
  eventBytes: number;
  instances: number;
}

export interface MetricsSnapshot {
  series: SeriesTotals[];
  truncated: boolean;
  gauges: ServerGauges[];
  upstreams: { server: string; up: boolean | null; latencyMs: number | null }[];
}

export interface MetricsHost {
  storage: DurableObjectStorage;
  sessions: SessionIndex;
  serverEnabled: (name: string) => boolean;
  upstreams: () => { server: string; up: boolean | null; latencyMs: number | null }[];
  /** Servers whose sessions each run a sandbox instance (active SDK deployments). */
  instanceServers: () => string[];
}

export class MetricsRecorder {
  readonly #host: MetricsHost;
  readonly #rollup: MetricsRollup;

  constructor(host: MetricsHost) {
    this.#host = host;
    this.#rollup = new MetricsRollup(host.storage.sql);
  }

  /** The deltas of a session's report that the tenant has not applied yet (seq after `appliedSeq`), for the session's own server. */
  foldReport(server: string, appliedSeq: number, update: SessionUpdate): void {
    const deltas = Array.isArray(update.metrics) ? update.metrics.slice(-MAX_DELTAS) : [];
    for (const d of deltas) {
      if (typeof d?.seq === "number" && d.seq > appliedSeq && d.seq <= update.seq && isDelta(d.delta)) this.#rollup.fold(server, d.delta);
    }
  }

  /** Samples the gauges of `server` for this minute (after a report or a session's end changed them). */
  sampleServer(server: string, now = Date.now()): void {
    const g = this.#host.sessions.gaugesOf(server);
    const instances = this.#host.instanceServers().includes(server) ? g.sessions : 0;
    this.#rollup.sampleGauges(server, { ...g, instances }, now);
  }

  /** Samples an upstream's reachability for this minute (after a probe). */
  sampleUpstream(server: string, up: boolean, now = Date.now()): void {
    this.#rollup.sampleUpstream(server, up, now);
  }

  /** An isolate's flush, in one transaction; a server that is not enabled counts as `_other`. */
  async foldIsolate(flush: IsolateFlush): Promise<void> {
    const servers = Array.isArray(flush?.servers) ? flush.servers.slice(0, MAX_FLUSH_SERVERS) : [];
    this.#host.storage.transactionSync(() => {
      for (const { server, delta } of servers) {
        if (typeof server !== "string" || !isDelta(delta)) continue;
        this.#rollup.fold(this.#host.serverEnabled(server) ? server : OTHER_TOOL, delta);
      }
    });
    await this.armPrune();
  }

  /** Makes sure the alarm will prune: armed once, then re-armed by each prune while rows are left. */
  async armPrune(now = Date.now()): Promise<void> {
    const kv = this.#host.storage.kv;
    if (kv.get<number>(METRICS_PRUNE_KEY) !== undefined) return;
    const at = now + PRUNE_INTERVAL_MS;
    kv.put(METRICS_PRUNE_KEY, at);
    await armAt(this.#host.storage, at, now);
  }

  /** On the tenant's alarm: drops minutes past the retention when a prune is due, and arms the next. */
  async pruneIfDue(now = Date.now()): Promise<void> {
    const kv = this.#host.storage.kv;
    const due = kv.get<number>(METRICS_PRUNE_KEY);
    if (due === undefined) return;
    if (due > now) return armAt(this.#host.storage, due, now);
    this.#rollup.prune(now);
    kv.delete(METRICS_PRUNE_KEY);
    if (this.#host.storage.sql.exec("SELECT 1 FROM metrics_minutes LIMIT 1").toArray().length > 0) await this.armPrune(now);
  }

  snapshot(maxSeries: number): MetricsSnapshot {
    const { series, truncated } = this.#rollup.totals(Math.max(0, maxSeries));
    const instances = new Set(this.#host.instanceServers());
    const gauges = this.#host.sessions.gauges().map((g) => ({ ...g, instances: instances.has(g.server) ? g.sessions : 0 }));
    return { series, truncated, gauges, upstreams: this.#host.upstreams() };
  }

  series(server: string, range: SeriesRange, now: number): { stepSeconds: number; points: SeriesPoint[] } {
    const { from, stepMs, count } = seriesWindow(range, now);
    return { stepSeconds: stepMs / 1000, points: this.#rollup.steps(server, from, stepMs, count).map(pointOf) };
  }

  /** The server's `tools/call`s of the last 24 hours, how many failed (any kind), and their latency percentiles (metrics/histogram.ts). */
  recentCalls(server: string, now = Date.now()): { calls: number; errors: number; latencyMs: { p50: number | null; p95: number | null; p99: number | null } } {
    const { requests, errors, buckets } = this.#rollup.recent(server, "tools/call", now - RECENT_MS);
    return { calls: requests, errors, latencyMs: { p50: quantileMs(buckets, 0.5), p95: quantileMs(buckets, 0.95), p99: quantileMs(buckets, 0.99) } };
  }
}

/** Arms the object's alarm for `at` unless it is armed earlier (a time in the past is the run under way: no promise). */
async function armAt(storage: DurableObjectStorage, at: number, now: number): Promise<void> {
  const armed = await storage.getAlarm();
  if (armed === null || armed > at || armed <= now) await storage.setAlarm(Math.max(at, now));
}
