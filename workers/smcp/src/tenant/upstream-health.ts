/**
 * The health of a tenant's upstream servers (table `upstream_health`, one row per
 * server that fronts an upstream): the last probe's verdict (gateway/health-probe.ts),
 * when it ran and when the next one is due.
 *
 * The schedule lives in the rows, so it survives eviction: the tenant object's alarm
 * is armed for the earliest `next_check_at` (never later than an alarm another concern
 * already armed: `arm` only moves it earlier). A reachable upstream is probed every
 * interval; a failing one waits the interval, then twice that, four times, ... up to
 * the cap, so a dead upstream costs a probe an hour, not one every five minutes.
 *
 * Bounded: a row per configured upstream (it goes with the configuration), the error
 * text cut to `MAX_ERROR_CHARS` (and refused longer by the table's CHECK). A result is
 * written only if the configuration it probed is still the stored one (`config_at`), so
 * a probe that ends after a `PUT` or `DELETE .../upstream` changes nothing.
 */
import type { PlatformConfig } from "@smcp/runtime";
import type { ProbeResult } from "../gateway/health-probe";

export const MAX_ERROR_CHARS = 1_024;

export const UPSTREAM_HEALTH_SCHEMA = `
CREATE TABLE upstream_health (
  server TEXT PRIMARY KEY,
  config_at INTEGER NOT NULL,
  reachable INTEGER,
  latency_ms INTEGER,
  tools INTEGER,
  protocol_version TEXT,
  error TEXT CHECK (error IS NULL OR length(error) <= ${MAX_ERROR_CHARS}),
  error_at INTEGER,
  checked_at INTEGER,
  last_ok_at INTEGER,
  next_check_at INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX upstream_health_by_next_check ON upstream_health (next_check_at);
`;

export interface ProbeSchedule {
  intervalMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
}

export const probeSchedule = (config: PlatformConfig): ProbeSchedule => ({
  intervalMs: config.SMCP_UPSTREAM_PROBE_INTERVAL_SECONDS * 1000,
  maxBackoffMs: config.SMCP_UPSTREAM_PROBE_MAX_BACKOFF_SECONDS * 1000,
  timeoutMs: config.SMCP_UPSTREAM_PROBE_TIMEOUT_SECONDS * 1000,
});

/** The wait before the next probe after `failures` failures in a row (0: the upstream answered). */
export function nextDelayMs(failures: number, s: Pick<ProbeSchedule, "intervalMs" | "maxBackoffMs">): number {
  if (failures <= 0) return s.intervalMs;
  return Math.min(s.intervalMs * 2 ** Math.min(failures - 1, 40), Math.max(s.maxBackoffMs, s.intervalMs));
}

export interface UpstreamHealthView {
  /** `unchecked` until the first probe of the current configuration has run. */
  state: "unchecked" | "reachable" | "unreachable";
  reachable: boolean | null;
  /** The last probe's duration, `initialize` to the last `tools/list` page. */
  latencyMs: number | null;
  /** Tools the last successful probe listed. */
  tools: number | null;
  protocolVersion: string | null;
  /** The last failure, worded as a client of the relay would get it; kept after a recovery, with its time. */
  lastError: string | null;
  lastErrorAt: number | null;
  checkedAt: number | null;
  lastReachableAt: number | null;
  nextCheckAt: number;
  consecutiveFailures: number;
}

export interface UpstreamHealthSummary {
  total: number;
  reachable: number;
  unreachable: number;
  unchecked: number;
  /** Servers whose last probe failed, at most 20. */
  unreachableServers: string[];
}

type Row = {
  server: string;
  config_at: number;
  reachable: number | null;
  latency_ms: number | null;
  tools: number | null;
  protocol_version: string | null;
  error: string | null;
  error_at: number | null;
  checked_at: number | null;
  last_ok_at: number | null;
  next_check_at: number;
  failures: number;
};

const viewOf = (r: Row): UpstreamHealthView => ({
  state: r.reachable === null ? "unchecked" : r.reachable ? "reachable" : "unreachable",
  reachable: r.reachable === null ? null : r.reachable === 1,
  latencyMs: r.latency_ms,
  tools: r.tools,
  protocolVersion: r.protocol_version,
  lastError: r.error,
  lastErrorAt: r.error_at,
  checkedAt: r.checked_at,
  lastReachableAt: r.last_ok_at,
  nextCheckAt: r.next_check_at,
  consecutiveFailures: r.failures,
});

const clip = (text: string) => (text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text);

export class UpstreamHealth {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** A new or replaced configuration: what was known of the old one goes, and a probe is due at once. */
  reset(server: string, configAt: number, now: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO upstream_health (server, config_at, next_check_at, failures) VALUES (?, ?, ?, 0)", server, configAt, now);
  }

  remove(server: string): void {
    this.#sql.exec("DELETE FROM upstream_health WHERE server = ?", server);
  }

  get(server: string): UpstreamHealthView | null {
    const row = this.#sql.exec<Row>("SELECT * FROM upstream_health WHERE server = ?", server).toArray()[0];
    return row ? viewOf(row) : null;
  }

  /** Servers whose probe is due, earliest first. */
  due(now: number, limit: number): { server: string; configAt: number }[] {
    return this.#sql
      .exec<{ server: string; config_at: number }>("SELECT server, config_at FROM upstream_health WHERE next_check_at <= ? ORDER BY next_check_at LIMIT ?", now, limit)
      .toArray()
      .map((r) => ({ server: r.server, configAt: r.config_at }));
  }

  /** Records a probe of the configuration `configAt` and schedules the next; null when that configuration is gone. */
  record(server: string, configAt: number, result: ProbeResult, now: number, schedule: ProbeSchedule): UpstreamHealthView | null {
    const row = this.#sql.exec<Row>("SELECT * FROM upstream_health WHERE server = ? AND config_at = ?", server, configAt).toArray()[0];
    if (!row) return null;
    const failures = result.ok ? 0 : row.failures + 1;
    const latency = Math.max(0, Math.round(result.latencyMs));
    const next = now + nextDelayMs(failures, schedule);
    if (result.ok) {
      this.#sql.exec(
        "UPDATE upstream_health SET reachable = 1, latency_ms = ?, tools = ?, protocol_version = ?, checked_at = ?, last_ok_at = ?, next_check_at = ?, failures = 0 WHERE server = ? AND config_at = ?",
        latency,
        result.tools,
        result.protocolVersion === null ? null : result.protocolVersion.slice(0, 32),
        now,
        now,
        next,
        server,
        configAt,
      );
    } else {
      this.#sql.exec(
        "UPDATE upstream_health SET reachable = 0, latency_ms = ?, error = ?, error_at = ?, checked_at = ?, next_check_at = ?, failures = ? WHERE server = ? AND config_at = ?",
        latency,
        clip(result.error),
        now,
        now,
        next,
        failures,
        server,
        configAt,
      );
    }
    return this.get(server);
  }

  nextCheckAt(): number | null {
    return this.#sql.exec<{ at: number | null }>("SELECT min(next_check_at) AS at FROM upstream_health").one().at;
  }

  /** Arms the object's alarm for the earliest due probe, unless it is armed earlier already. */
  async arm(storage: DurableObjectStorage, now = Date.now()): Promise<void> {
    const at = this.nextCheckAt();
    if (at === null) return;
    const armed = await storage.getAlarm();
    // An alarm time in the past is the one running now (or about to): it is no promise of a later run.
    if (armed === null || armed > at || armed <= now) await storage.setAlarm(Math.max(at, now));
  }

  /** Each upstream's last verdict (null: not probed yet), for the metrics gauge `smcp_upstream_up`. */
  reachability(): { server: string; up: boolean | null; latencyMs: number | null }[] {
    return this.#sql
      .exec<{ server: string; reachable: number | null; latency_ms: number | null }>("SELECT server, reachable, latency_ms FROM upstream_health ORDER BY server")
      .toArray()
      .map((r) => ({ server: r.server, up: r.reachable === null ? null : r.reachable === 1, latencyMs: r.latency_ms }));
  }

  summary(): UpstreamHealthSummary {
    const counts = this.#sql
      .exec<{ total: number; ok: number | null; failing: number | null }>(
        "SELECT count(*) AS total, sum(reachable = 1) AS ok, sum(reachable = 0) AS failing FROM upstream_health",
      )
      .one();
    const unreachableServers = this.#sql
      .exec<{ server: string }>("SELECT server FROM upstream_health WHERE reachable = 0 ORDER BY server LIMIT 20")
      .toArray()
      .map((r) => r.server);
    const reachable = counts.ok ?? 0;
    const unreachable = counts.failing ?? 0;
    return { total: counts.total, reachable, unreachable, unchecked: counts.total - reachable - unreachable, unreachableServers };
  }
}
