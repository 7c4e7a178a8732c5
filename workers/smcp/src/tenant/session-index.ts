/**
 * The tenant's session index (table `sessions`) and the counters admins read from it.
 *
 * Sessions add themselves on `initialize`, report activity and counters while they
 * run, and remove themselves when they end. Requests and errors for health are the
 * metrics rollups' (tenant/metrics-rollup.ts), fed by the same reports; the alarm
 * figures are totals in KV.
 * A report is applied only when its sequence number is newer than the row's
 * `report_seq`, so a retried report (its acknowledgement lost) counts once. Rows past
 * their expiry are offered to the tenant for a sweep (`expired`), which confirms with
 * the session object before it drops one.
 */
import type { AlarmTotals, SessionRecord, SessionUpdate, TenantStats } from "./types";

interface Totals {
  /** No longer advanced (requests and errors are the metrics rollups' since TENANT_MIGRATIONS step 16); kept so every record reads alike. */
  closedRequests: number;
  closedErrors: number;
  alarms: number;
  alarmFailures: number;
  alarmLagMsMax: number;
  alarmLagMsTotal: number;
  /** Report calls this object received (a session's own or a shard's batch): the figure sharding keeps low (bench). */
  reportCalls?: number;
}

/** A session row's alarm figures: the totals of its last report applied (step 20). */
interface AlarmRow extends Record<string, SqlStorageValue> {
  alarm_runs: number;
  alarm_failures: number;
  alarm_lag_ms_total: number;
}

/** What `reportOf` reads of a session's row, for applying its next report. */
export interface ReportedRow {
  server: string;
  seq: number;
  alarms: AlarmRow;
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

const EMPTY: Totals = { closedRequests: 0, closedErrors: 0, alarms: 0, alarmFailures: 0, alarmLagMsMax: 0, alarmLagMsTotal: 0 };
const TOTALS_KEY = "stats";

interface SessionRow extends Record<string, SqlStorageValue> {
  id: string;
  server: string;
  key_id: string | null;
  protocol_version: string;
  client_info: string;
  created_at: number;
  last_activity: number;
  expires_at: number;
}

export class SessionIndex {
  readonly #storage: DurableObjectStorage;
  /**
   * No row expires before this (a lower bound, or undefined: unknown), so the sweep that
   * every admission runs reads nothing until the earliest expiry has passed. Only a read
   * that found no row past the cutoff raises it; every write of an expiry lowers it to
   * that expiry, so it stays a lower bound whatever is written (one instance per object).
   */
  #noExpiryBefore: number | undefined;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get #sql() {
    return this.#storage.sql;
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions").one().n;
  }

  add(record: SessionRecord): void {
    this.#expiresAt(record.expiresAt);
    this.#sql.exec(
      `INSERT OR REPLACE INTO sessions (id, server, key_id, grant_id, protocol_version, client_info, created_at, last_activity, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.id,
      record.server,
      record.keyId,
      record.grantId ?? null,
      record.protocolVersion,
      JSON.stringify(record.clientInfo ?? null),
      record.createdAt,
      record.lastActivity,
      record.expiresAt,
    );
  }

  /** The server of an indexed session, the seq of its last report applied and the alarm totals it carried; null when it is not indexed. */
  reportOf(id: string): ReportedRow | null {
    const row = this.#sql
      .exec<AlarmRow & { server: string; report_seq: number }>("SELECT server, report_seq, alarm_runs, alarm_failures, alarm_lag_ms_total FROM sessions WHERE id = ?", id)
      .toArray()[0];
    return row ? { server: row.server, seq: row.report_seq, alarms: { alarm_runs: row.alarm_runs, alarm_failures: row.alarm_failures, alarm_lag_ms_total: row.alarm_lag_ms_total } } : null;
  }

  /** Live sessions and their event-log bytes per server (the metrics gauges). */
  gauges(): { server: string; sessions: number; eventBytes: number }[] {
    return this.#sql
      .exec<{ server: string; n: number; bytes: number | null }>("SELECT server, count(*) AS n, sum(event_bytes) AS bytes FROM sessions GROUP BY server ORDER BY server")
      .toArray()
      .map((r) => ({ server: r.server, sessions: r.n, eventBytes: r.bytes ?? 0 }));
  }

  /** Live sessions and event-log bytes of one server. */
  gaugesOf(server: string): { sessions: number; eventBytes: number } {
    const row = this.#sql.exec<{ n: number; bytes: number | null }>("SELECT count(*) AS n, sum(event_bytes) AS bytes FROM sessions WHERE server = ?", server).one();
    return { sessions: row.n, eventBytes: row.bytes ?? 0 };
  }

  /** Applies a report of the indexed session whose row `reportOf` read, once (by its seq). */
  touch(id: string, update: SessionUpdate, before: ReportedRow): void {
    if (update.seq <= before.seq) return;
    this.#expiresAt(update.expiresAt);
    const alarms = this.#foldAlarms(before.alarms, update.alarms);
    this.#sql.exec(
      `UPDATE sessions SET last_activity = ?, expires_at = ?, requests = ?, errors = ?, event_bytes = ?, report_seq = ?,
         alarm_runs = ?, alarm_failures = ?, alarm_lag_ms_total = ?
       WHERE id = ?`,
      update.lastActivity,
      update.expiresAt,
      update.requests,
      update.errors,
      update.eventBytes,
      update.seq,
      alarms.alarm_runs,
      alarms.alarm_failures,
      alarms.alarm_lag_ms_total,
      id,
    );
  }

  /**
   * Adds what a session's alarm totals grew by since its row last saw them to the tenant's
   * totals; the row's new figures. The totals only grow, so a stale or repeated report adds
   * nothing; a value that is not a count is ignored.
   */
  #foldAlarms(row: AlarmRow, alarms: AlarmTotals | undefined): AlarmRow {
    if (!alarms || ![alarms.runs, alarms.failures, alarms.lagMsTotal, alarms.lagMsMax].every(isCount)) return row;
    const next: AlarmRow = {
      alarm_runs: Math.max(row.alarm_runs, alarms.runs),
      alarm_failures: Math.max(row.alarm_failures, alarms.failures),
      alarm_lag_ms_total: Math.max(row.alarm_lag_ms_total, alarms.lagMsTotal),
    };
    const totals = this.#totals();
    if (next.alarm_runs === row.alarm_runs && next.alarm_failures === row.alarm_failures && alarms.lagMsMax <= totals.alarmLagMsMax) return row;
    totals.alarms += next.alarm_runs - row.alarm_runs;
    totals.alarmFailures += next.alarm_failures - row.alarm_failures;
    totals.alarmLagMsTotal += next.alarm_lag_ms_total - row.alarm_lag_ms_total;
    totals.alarmLagMsMax = Math.max(totals.alarmLagMsMax, alarms.lagMsMax);
    this.#storage.kv.put(TOTALS_KEY, totals);
    return next;
  }

  /** Removes a session, adding its counters to the totals; returns its key and grant ids, or undefined when it was not indexed. */
  remove(id: string, final?: SessionUpdate): { keyId: string | null; grantId: string | null } | undefined {
    const row = this.#sql
      .exec<AlarmRow & { key_id: string | null; grant_id: string | null }>(
        "SELECT key_id, grant_id, alarm_runs, alarm_failures, alarm_lag_ms_total FROM sessions WHERE id = ?",
        id,
      )
      .toArray()[0];
    if (!row) return undefined;
    // The final report's alarm runs (an expiry's own among them) count like any report's.
    this.#foldAlarms(row, final?.alarms);
    // The session's requests and errors are in the metrics rollups (its final report's deltas, folded by the caller).
    this.#sql.exec("DELETE FROM sessions WHERE id = ?", id);
    return { keyId: row.key_id, grantId: row.grant_id };
  }

  list(): SessionRecord[] {
    return this.#rows("SELECT * FROM sessions ORDER BY created_at, id");
  }

  get(id: string): SessionRecord | null {
    return this.#rows("SELECT * FROM sessions WHERE id = ?", id)[0] ?? null;
  }

  /** Open sessions of one key, so revoking the key can end them. */
  ofKey(keyId: string): { id: string; server: string }[] {
    return this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions WHERE key_id = ?", keyId).toArray().map((s) => ({ ...s }));
  }

  /** Open sessions of one OAuth grant, so revoking it can end them. */
  ofGrant(grantId: string): { id: string; server: string }[] {
    return this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions WHERE grant_id = ?", grantId).toArray().map((s) => ({ ...s }));
  }

  /** Open sessions of one server, so purging the server can end them. */
  ofServer(server: string): { id: string; server: string }[] {
    return this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions WHERE server = ?", server).toArray().map((s) => ({ ...s }));
  }

  /** Up to `limit` sessions whose recorded expiry has passed: candidates for a sweep. */
  expired(now: number, limit: number): { id: string; server: string }[] {
    if (this.#noExpiryBefore !== undefined && now <= this.#noExpiryBefore) return [];
    // The earliest rows, past the cutoff or not: when none is past it, the first one's expiry is the new bound.
    const rows = this.#sql
      .exec<{ id: string; server: string; expires_at: number }>("SELECT id, server, expires_at FROM sessions ORDER BY expires_at LIMIT ?", limit)
      .toArray();
    const past = rows.filter((r) => r.expires_at < now);
    this.#noExpiryBefore = past.length ? undefined : (rows[0]?.expires_at ?? Number.POSITIVE_INFINITY);
    return past.map((r) => ({ id: r.id, server: r.server }));
  }

  /** A write of an expiry: the bound of `expired` may only go down. */
  #expiresAt(at: number): void {
    if (this.#noExpiryBefore !== undefined && !(at >= this.#noExpiryBefore)) this.#noExpiryBefore = at;
  }

  /** A session confirmed alive keeps its row until at least `expiresAt`. */
  extend(id: string, expiresAt: number): void {
    this.#expiresAt(expiresAt);
    this.#sql.exec("UPDATE sessions SET expires_at = max(expires_at, ?) WHERE id = ?", expiresAt, id);
  }

  /** When the oldest indexed session of `server` was created; null when it has none. */
  oldestOf(server: string): number | null {
    return this.#sql.exec<{ t: number | null }>("SELECT min(created_at) AS t FROM sessions WHERE server = ?", server).one().t;
  }

  all(): { id: string; server: string }[] {
    return this.#sql.exec<{ id: string; server: string }>("SELECT id, server FROM sessions").toArray().map((s) => ({ ...s }));
  }

  /** One more report call; written with the report it came with. */
  countReportCall(): void {
    const totals = this.#totals();
    totals.reportCalls = (totals.reportCalls ?? 0) + 1;
    this.#storage.kv.put(TOTALS_KEY, totals);
  }

  /** Sessions, event-log bytes and alarm figures; requests and errors come from the metrics totals (tenant-do.ts `stats`). */
  stats(): Omit<TenantStats, "requests" | "errors"> {
    const totals = this.#totals();
    const rows = this.#sql
      .exec<{ server: string; n: number; bytes: number }>("SELECT server, count(*) AS n, sum(event_bytes) AS bytes FROM sessions GROUP BY server")
      .toArray();
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((t, r) => t + (f(r) ?? 0), 0);
    return {
      sessions: sum((r) => r.n),
      sessionsByServer: Object.fromEntries(rows.map((r) => [r.server, r.n])),
      eventLogBytes: sum((r) => r.bytes),
      alarms: totals.alarms,
      alarmFailures: totals.alarmFailures,
      alarmLagMsMax: totals.alarmLagMsMax,
      alarmLagMsAvg: totals.alarms ? Math.round(totals.alarmLagMsTotal / totals.alarms) : 0,
      reportCalls: totals.reportCalls ?? 0,
    };
  }

  #totals(): Totals {
    return { ...EMPTY, ...this.#storage.kv.get<Totals>(TOTALS_KEY) };
  }

  #rows(query: string, ...bindings: unknown[]): SessionRecord[] {
    return this.#sql
      .exec<SessionRow>(query, ...bindings)
      .toArray()
      .map((r) => ({
        id: r.id,
        server: r.server,
        keyId: r.key_id,
        protocolVersion: r.protocol_version,
        clientInfo: JSON.parse(r.client_info),
        createdAt: r.created_at,
        lastActivity: r.last_activity,
        expiresAt: r.expires_at,
      }));
  }
}
