/**
 * The tenant's metrics rollups (tables `metrics_minutes`, `metrics_totals` and
 * `metrics_gauges`): every request of the tenant counted per minute and per series
 * (server, method, tool), the same counts as running totals since the tenant was created
 * (what Prometheus counters need: a 24-hour window would go down as minutes age out), and
 * a sample per minute and server of its gauges (live sessions, event-log bytes, sandbox
 * instances, upstream reachability), taken when a report or a probe changes them.
 *
 * Written only by `fold`, once per session report or isolate flush (tenant-do.ts), in
 * the caller's transaction: never once per request. The server label is the one the
 * tenant knows (the session's index row, or an enabled server of the flushing isolate's
 * request), never one a client chose: a server that is not enabled counts as `_other`.
 *
 * Bounded: a minute row exists per series that had traffic; per minute and server at
 * most `MAX_SERIES_PER_MINUTE` series (later tools count as `_other`), and at most
 * `MAX_TOTAL_SERIES` rows of totals (later series fold into their server's `_other`).
 * Minutes older than `RETENTION_MS` are pruned by the tenant's alarm (`prune`), so at
 * most 25 hours of minutes are kept.
 */
import { BUCKETS } from "../metrics/histogram";
import { ERROR_KINDS } from "../metrics/error-kinds";
import { MAX_SERIES_PER_MINUTE, MINUTE_MS, OTHER_TOOL, emptyCell, minuteOf, splitKey, type Cell, type MetricsDelta } from "../metrics/delta";

/** Minutes kept: a day, and one hour more so that a 24-hour chart is always whole. */
export const RETENTION_MS = 25 * 60 * MINUTE_MS;
/** How often the tenant's alarm prunes old minutes. */
export const PRUNE_INTERVAL_MS = 60 * MINUTE_MS;
export const MAX_TOTAL_SERIES = 2_000;

/** The counters' columns, in ERROR_KINDS and BUCKET_BOUNDS_MS order (the schema names them; never reorder). */
const ERROR_COLUMNS = ["e_protocol", "e_tool", "e_auth", "e_limit", "e_upstream", "e_sandbox", "e_internal"] as const;
const BUCKET_COLUMNS = ["b1", "b2", "b5", "b10", "b25", "b50", "b100", "b250", "b500", "b1000", "b2500", "b5000", "b10000", "b_inf"] as const;
const COUNTER_COLUMNS = ["requests", ...ERROR_COLUMNS, ...BUCKET_COLUMNS, "sum_ms"] as const;
if (ERROR_COLUMNS.length !== ERROR_KINDS.length || BUCKET_COLUMNS.length !== BUCKETS) throw new Error("metrics-rollup: columns do not match the kinds and buckets");

/** The counter columns both tables share (part of the step text below: never edit it). */
const COUNTERS_DDL = `
  requests INTEGER NOT NULL DEFAULT 0,
  e_protocol INTEGER NOT NULL DEFAULT 0,
  e_tool INTEGER NOT NULL DEFAULT 0,
  e_auth INTEGER NOT NULL DEFAULT 0,
  e_limit INTEGER NOT NULL DEFAULT 0,
  e_upstream INTEGER NOT NULL DEFAULT 0,
  e_sandbox INTEGER NOT NULL DEFAULT 0,
  e_internal INTEGER NOT NULL DEFAULT 0,
  b1 INTEGER NOT NULL DEFAULT 0,
  b2 INTEGER NOT NULL DEFAULT 0,
  b5 INTEGER NOT NULL DEFAULT 0,
  b10 INTEGER NOT NULL DEFAULT 0,
  b25 INTEGER NOT NULL DEFAULT 0,
  b50 INTEGER NOT NULL DEFAULT 0,
  b100 INTEGER NOT NULL DEFAULT 0,
  b250 INTEGER NOT NULL DEFAULT 0,
  b500 INTEGER NOT NULL DEFAULT 0,
  b1000 INTEGER NOT NULL DEFAULT 0,
  b2500 INTEGER NOT NULL DEFAULT 0,
  b5000 INTEGER NOT NULL DEFAULT 0,
  b10000 INTEGER NOT NULL DEFAULT 0,
  b_inf INTEGER NOT NULL DEFAULT 0,
  sum_ms REAL NOT NULL DEFAULT 0,`.slice(1);

/** Step 16 of TENANT_MIGRATIONS as it shipped (text fixed once written: append a step to change it). */
export const METRICS_SCHEMA = `
CREATE TABLE metrics_minutes (
  minute INTEGER NOT NULL,
  server TEXT NOT NULL,
  method TEXT NOT NULL,
  tool TEXT NOT NULL,
${COUNTERS_DDL}
  PRIMARY KEY (minute, server, method, tool)
) WITHOUT ROWID;
CREATE INDEX metrics_minutes_by_server ON metrics_minutes (server, minute);
CREATE TABLE metrics_totals (
  server TEXT NOT NULL,
  method TEXT NOT NULL,
  tool TEXT NOT NULL,
${COUNTERS_DDL}
  PRIMARY KEY (server, method, tool)
) WITHOUT ROWID;
CREATE TABLE metrics_gauges (
  minute INTEGER NOT NULL,
  server TEXT NOT NULL,
  sessions INTEGER NOT NULL DEFAULT 0,
  event_bytes INTEGER NOT NULL DEFAULT 0,
  instances INTEGER NOT NULL DEFAULT 0,
  upstream_up INTEGER,
  PRIMARY KEY (minute, server)
) WITHOUT ROWID;
`;

/** One series' totals, as the exposition reads them. */
export interface SeriesTotals {
  server: string;
  method: string;
  tool: string;
  requests: number;
  /** By kind, ERROR_KINDS order. */
  errors: number[];
  /** Per bucket (not cumulative), BUCKET_BOUNDS_MS order then +Inf. */
  buckets: number[];
  sumMs: number;
}

/** One step of a server's series (the series API). */
export interface SeriesStep {
  t: number;
  requests: number;
  errors: number;
  buckets: number[];
}

type CounterRow = Record<(typeof COUNTER_COLUMNS)[number], number>;

const cellValues = (c: Cell): number[] => [c.n, ...c.e, ...c.h, c.s];
const placeholders = COUNTER_COLUMNS.map(() => "?").join(", ");
const additions = COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
const UPSERT_MINUTE = `INSERT INTO metrics_minutes (minute, server, method, tool, ${COUNTER_COLUMNS.join(", ")}) VALUES (?, ?, ?, ?, ${placeholders})
  ON CONFLICT (minute, server, method, tool) DO UPDATE SET ${additions}`;
const UPSERT_TOTAL = `INSERT INTO metrics_totals (server, method, tool, ${COUNTER_COLUMNS.join(", ")}) VALUES (?, ?, ?, ${placeholders})
  ON CONFLICT (server, method, tool) DO UPDATE SET ${additions}`;

export class MetricsRollup {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /**
   * Adds a delta counted for `server` to the minute rows and the totals. Minutes outside
   * the kept window (older than the retention, or more than a minute ahead of `now`) go
   * into the totals only.
   */
  fold(server: string, delta: MetricsDelta, now = Date.now()): void {
    const oldest = minuteOf(now) - RETENTION_MS;
    const newest = minuteOf(now) + MINUTE_MS;
    for (const [minuteText, series] of Object.entries(delta)) {
      const minute = Number(minuteText);
      const inWindow = minute >= oldest && minute <= newest;
      let known: Set<string> | undefined;
      for (const [key, cell] of Object.entries(series)) {
        const { method, tool } = splitKey(key);
        if (inWindow) {
          known ??= this.#keysOf(minute, server);
          const k = `${method}\t${tool}`;
          const minuteTool = known.has(k) || known.size < MAX_SERIES_PER_MINUTE ? tool : OTHER_TOOL;
          known.add(`${method}\t${minuteTool}`);
          this.#sql.exec(UPSERT_MINUTE, minute, server, method, minuteTool, ...cellValues(cell));
        }
        this.#sql.exec(UPSERT_TOTAL, server, method, this.#totalsTool(server, method, tool), ...cellValues(cell));
      }
    }
  }

  /**
   * The gauges of a server as they stand at `now`, kept as its minute's sample (the last
   * one of the minute wins): written with a report or a probe, never per request.
   */
  sampleGauges(server: string, gauges: { sessions: number; eventBytes: number; instances: number }, now = Date.now()): void {
    this.#sql.exec(
      `INSERT INTO metrics_gauges (minute, server, sessions, event_bytes, instances) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (minute, server) DO UPDATE SET sessions = excluded.sessions, event_bytes = excluded.event_bytes, instances = excluded.instances`,
      minuteOf(now),
      server,
      gauges.sessions,
      gauges.eventBytes,
      gauges.instances,
    );
  }

  /** An upstream's probe verdict, as its minute's sample. */
  sampleUpstream(server: string, up: boolean, now = Date.now()): void {
    this.#sql.exec(
      "INSERT INTO metrics_gauges (minute, server, upstream_up) VALUES (?, ?, ?) ON CONFLICT (minute, server) DO UPDATE SET upstream_up = excluded.upstream_up",
      minuteOf(now),
      server,
      up ? 1 : 0,
    );
  }

  /** Drops minutes older than the retention; returns how many rows went. */
  prune(now = Date.now()): number {
    const before = minuteOf(now) - RETENTION_MS;
    return this.#sql.exec("DELETE FROM metrics_minutes WHERE minute < ?", before).rowsWritten + this.#sql.exec("DELETE FROM metrics_gauges WHERE minute < ?", before).rowsWritten;
  }

  /** A server's rows go with the server (purge). */
  remove(server: string): void {
    for (const table of ["metrics_minutes", "metrics_totals", "metrics_gauges"]) this.#sql.exec(`DELETE FROM ${table} WHERE server = ?`, server);
  }

  /** Every series' totals, at most `limit` rows (ordered by server, method, tool), and whether more exist. */
  totals(limit: number): { series: SeriesTotals[]; truncated: boolean } {
    const rows = this.#sql.exec<{ server: string; method: string; tool: string } & CounterRow>("SELECT * FROM metrics_totals ORDER BY server, method, tool LIMIT ?", limit + 1).toArray();
    return { series: rows.slice(0, limit).map(totalsOf), truncated: rows.length > limit };
  }

  /** Every request the tenant answered and the failed ones (any kind), from the totals. */
  grandTotal(): { requests: number; errors: number } {
    const row = this.#sql.exec<{ n: number | null; e: number | null }>(`SELECT sum(requests) AS n, sum(${ERROR_COLUMNS.join(" + ")}) AS e FROM metrics_totals`).one();
    return { requests: row.n ?? 0, errors: row.e ?? 0 };
  }

  /** Requests of `method` and their errors, of a server, in the kept window since `since` (the servers' admin view). */
  recent(server: string, method: string, since: number): { requests: number; errors: number; buckets: number[] } {
    const row = this.#sql
      .exec<CounterRow>(
        `SELECT ${COUNTER_COLUMNS.map((c) => `coalesce(sum(${c}), 0) AS ${c}`).join(", ")} FROM metrics_minutes WHERE server = ? AND method = ? AND minute >= ?`,
        server,
        method,
        minuteOf(since),
      )
      .one();
    const cell = cellOf(row);
    return { requests: cell.n, errors: cell.e.reduce((t, n) => t + n, 0), buckets: cell.h };
  }

  /** A server's steps of `stepMs` from `from` (inclusive, a step start) for `count` steps, oldest first, every step present. */
  steps(server: string, from: number, stepMs: number, count: number): SeriesStep[] {
    const rows = this.#sql
      .exec<{ step: number } & CounterRow>(
        `SELECT CAST((minute - ?) / ? AS INTEGER) AS step, ${COUNTER_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(", ")}
         FROM metrics_minutes WHERE server = ? AND minute >= ? AND minute < ? GROUP BY step`,
        from,
        stepMs,
        server,
        from,
        from + stepMs * count,
      )
      .toArray();
    // Bound numbers arrive as REAL: the CAST keeps the division whole.
    const byStep = new Map(rows.map((r) => [r.step, r]));
    return Array.from({ length: count }, (_, i) => {
      const r = byStep.get(i);
      const cell = r ? cellOf(r) : emptyCell();
      return { t: from + i * stepMs, requests: cell.n, errors: cell.e.reduce((t, n) => t + n, 0), buckets: cell.h };
    });
  }

  #keysOf(minute: number, server: string): Set<string> {
    return new Set(
      this.#sql
        .exec<{ method: string; tool: string }>("SELECT method, tool FROM metrics_minutes WHERE minute = ? AND server = ?", minute, server)
        .toArray()
        .map((r) => `${r.method}\t${r.tool}`),
    );
  }

  /** The tool a totals row is kept under: its own while the table has room, else its server's `_other`. */
  #totalsTool(server: string, method: string, tool: string): string {
    if (this.#sql.exec("SELECT 1 FROM metrics_totals WHERE server = ? AND method = ? AND tool = ?", server, method, tool).toArray().length > 0) return tool;
    const n = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM metrics_totals").one().n;
    return n < MAX_TOTAL_SERIES ? tool : OTHER_TOOL;
  }
}

function cellOf(r: CounterRow): Cell {
  return {
    n: r.requests,
    e: ERROR_COLUMNS.map((c) => r[c]),
    h: BUCKET_COLUMNS.map((c) => r[c]),
    s: r.sum_ms,
  };
}

function totalsOf(r: { server: string; method: string; tool: string } & CounterRow): SeriesTotals {
  const c = cellOf(r);
  return { server: r.server, method: r.method, tool: r.tool, requests: c.n, errors: c.e, buckets: c.h, sumMs: c.s };
}
