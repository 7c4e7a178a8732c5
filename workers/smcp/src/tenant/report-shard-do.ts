/**
 * ReportShardDO: one of `SMCP_REPORT_SHARDS` objects per tenant that collect the
 * sessions' counter reports and hand the tenant object one batch per flush interval.
 *
 * Why: every active session reports every 5 s (session-do.ts `#report`); sent straight to
 * the tenant object that is 0.2 calls per session per second, so about 5 000 active
 * sessions of one tenant saturate it with reports alone. Through S shards the tenant sees
 * S calls per interval whatever the number of sessions (a shard also saturates near
 * 5 000 sessions, so S ≈ sessions / 2 500 keeps headroom: 20 for 50 000).
 *
 * Semantics are those of the tenant's own report handling (tenant-do.ts `sessionTouched`):
 * - a report is applied once per session seq: the shard keeps each session's latest seq
 *   and totals and ignores a resent one; a metrics delta is kept under the seq of the
 *   report that first carried it, so the tenant folds each once (tenant/metrics.ts);
 * - the ack means "stored durably here", so the session drops its sent deltas as it did
 *   on the tenant's ack.
 * A flush freezes the pending reports into an outbox batch with the next batch seq and
 * sends exactly that batch until the tenant acknowledges it; the tenant applies a batch
 * once per (shard, batch seq) (`report_batches`), so a flush re-driven after a lost
 * answer counts nothing twice. A session's end goes through its shard too, carrying the
 * deltas the shard still holds for it, and removes its row: the tenant's totals are
 * complete the moment the session leaves the index.
 *
 * Bounds: at most MAX_ROWS sessions per shard (a new session past that reports straight
 * to the tenant), MAX_DELTAS deltas and MAX_ROW_BYTES of them per session (the oldest go
 * first), MAX_BATCH reports per batch. Rows of sessions the tenant no longer indexes are
 * dropped when a batch names them, rows past their session's expiry on the alarm, and an
 * empty shard deletes its storage.
 */
import { DurableObject } from "cloudflare:workers";
import { platformConfig } from "@smcp/runtime";
import type { Env } from "../env";
import { tenantStub } from "../env";
import { logEvent } from "../log";
import { migrate, type MigrationList } from "../storage/migrations";
import type { SentDelta } from "../mcp/request-log";
import { MAX_BATCH, mergeDeltas, reportShardName, shardOf, type ReportBatch } from "./report-batch";
import type { SessionEndCause, SessionEndReason, SessionReportAck, SessionUpdate } from "./types";

export const REPORT_SHARD_MIGRATIONS: MigrationList = {
  name: "ReportShardDO",
  steps: [
    // 1: each session's latest report (its seq and totals) and the deltas not yet flushed;
    // the outbox holds the batch in flight until the tenant acknowledges it.
    `
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  report TEXT NOT NULL,
  deltas TEXT NOT NULL,
  dirty INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX reports_dirty ON reports (dirty) WHERE dirty = 1;
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  report TEXT NOT NULL
);
`,
    // Append new steps here.
  ],
};

/** How often a shard flushes to the tenant (the sessions' own report interval). */
export const FLUSH_INTERVAL_MS = 5_000;
/** Sessions one shard holds; a new one past it reports to the tenant directly. */
export const MAX_ROWS = 10_000;
/** A failed flush is retried this long after. */
const RETRY_MS = 2_000;
/** Rows of sessions past their expiry this long are dropped (the session ended without telling). */
const EXPIRY_GRACE_MS = 60 * 60_000;

/** KV keys: who this shard is, and the seq of the last batch frozen into the outbox. */
const OWNER_KEY = "owner";
const BATCH_SEQ_KEY = "batchSeq";

interface Owner {
  tenant: string;
  shard: number;
}

/** Where a session of `tenant` sends its reports and its end: its shard, or the tenant itself when sharding is off (0). */
export function reportTarget(env: Env, tenant: string, sessionId: string) {
  const shards = platformConfig(env).SMCP_REPORT_SHARDS;
  if (shards === 0) return null;
  const shard = shardOf(sessionId, shards);
  return { shard, stub: env.REPORT_SHARDS.get(env.REPORT_SHARDS.idFromName(reportShardName(tenant, shard))) };
}

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  seq: number;
  report: string;
  deltas: string;
  dirty: number;
  expires_at: number;
}

type Totals = Omit<SessionUpdate, "metrics">;

export class ReportShardDO extends DurableObject<Env> {
  #flushing: Promise<number> | undefined;

  get #sql() {
    return this.ctx.storage.sql;
  }

  /** The first write makes the schema and records the owner, so the alarm knows where to flush. */
  #prepare(tenant: string, shard: number): void {
    if (!this.ctx.storage.kv.get(OWNER_KEY)) {
      migrate(this.ctx.storage, REPORT_SHARD_MIGRATIONS);
      this.ctx.storage.kv.put(OWNER_KEY, { tenant, shard } satisfies Owner);
    }
  }

  #row(id: string): Row | undefined {
    return this.#sql.exec<Row>("SELECT * FROM reports WHERE id = ?", id).toArray()[0];
  }

  /** A session's report: kept once per seq, flushed with the next batch. */
  async report(tenant: string, shard: number, id: string, update: SessionUpdate): Promise<SessionReportAck> {
    this.#prepare(tenant, shard);
    const row = this.#row(id);
    if (row && update.seq <= row.seq) return { ok: true, seq: update.seq };
    if (!row && this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM reports").one().n >= MAX_ROWS) {
      return tenantStub(this.env, tenant).sessionTouched(id, update);
    }
    const { metrics, ...totals } = update;
    const fresh = (Array.isArray(metrics) ? metrics : []).filter((d) => d.seq > (row?.seq ?? 0) && d.seq <= update.seq);
    const deltas = mergeDeltas(row ? (JSON.parse(row.deltas) as SentDelta[]) : [], fresh);
    this.#sql.exec(
      "INSERT OR REPLACE INTO reports (id, seq, report, deltas, dirty, expires_at) VALUES (?, ?, ?, ?, 1, ?)",
      id,
      update.seq,
      JSON.stringify(totals satisfies Totals),
      JSON.stringify(deltas),
      update.expiresAt,
    );
    await this.#armFlush();
    return { ok: true, seq: update.seq };
  }

  /**
   * A session's end: its final report together with every delta this shard still holds
   * for it (pending or in the outbox; the tenant folds each seq once, so one also in a
   * batch in flight is not counted twice), then its row goes. Idempotent like the
   * tenant's `sessionClosed`; a failure is the caller's to re-drive.
   */
  async sessionClosed(tenant: string, shard: number, id: string, reason: SessionEndReason, final: SessionUpdate, cause?: SessionEndCause): Promise<{ ok: true }> {
    const known = this.ctx.storage.kv.get(OWNER_KEY) !== undefined;
    const row = known ? this.#row(id) : undefined;
    const outbox = known ? this.#sql.exec<{ report: string }>("SELECT report FROM outbox WHERE id = ?", id).toArray()[0] : undefined;
    const held = [
      ...(outbox ? ((JSON.parse(outbox.report) as SessionUpdate).metrics ?? []) : []),
      ...(row ? (JSON.parse(row.deltas) as SentDelta[]) : []),
    ];
    const finalDeltas = (final.metrics ?? []).filter((d) => d.seq > (row?.seq ?? 0));
    const update: SessionUpdate = { ...final, seq: Math.max(final.seq, row?.seq ?? 0), metrics: mergeDeltas(held, finalDeltas) };
    await tenantStub(this.env, tenant).sessionClosed(id, reason, update, cause);
    if (row) this.#sql.exec("DELETE FROM reports WHERE id = ?", id);
    return { ok: true };
  }

  /** A flush within the interval: an alarm armed later (the expiry check of a quiet shard) is brought forward. */
  async #armFlush(): Promise<void> {
    const due = Date.now() + FLUSH_INTERVAL_MS;
    const armed = await this.ctx.storage.getAlarm();
    if (armed === null || armed > due) await this.ctx.storage.setAlarm(due);
  }

  async alarm(): Promise<void> {
    const owner = this.ctx.storage.kv.get<Owner>(OWNER_KEY);
    if (!owner) return;
    let sent = 0;
    try {
      sent = await this.flush();
    } catch (err) {
      logEvent("warn", "report flush failed", { tenant: owner.tenant, shard: owner.shard, error: String(err) });
      await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
      return;
    }
    this.#sql.exec("DELETE FROM reports WHERE dirty = 0 AND expires_at < ?", Date.now() - EXPIRY_GRACE_MS);
    const dirty = this.#sql.exec("SELECT 1 FROM reports WHERE dirty = 1 LIMIT 1").toArray().length > 0;
    const left = this.#sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM reports").one().t;
    // Reports that came during the flush wait for the next interval; a backlog past one batch goes at once.
    if (dirty) await this.ctx.storage.setAlarm(sent >= MAX_BATCH ? Date.now() : Date.now() + FLUSH_INTERVAL_MS);
    else if (left !== null) await this.ctx.storage.setAlarm(Math.max(Date.now() + FLUSH_INTERVAL_MS, left + EXPIRY_GRACE_MS));
    else {
      // Nothing held: the shard leaves no storage behind (the next report makes it again).
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    }
  }

  /** Sends the outbox batch, freezing the pending reports into one first if it is empty; one flush at a time. Resolves to the reports sent. */
  flush(): Promise<number> {
    this.#flushing ??= this.#flushOnce().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /**
   * The batch to send: the outbox, or the pending reports frozen into it under the next
   * batch seq when it is empty; null when nothing is pending. A step of `flush`, public
   * so a test can stand between freezing and sending (an answer lost on the way back).
   */
  outboxBatch(): ReportBatch | null {
    const owner = this.ctx.storage.kv.get<Owner>(OWNER_KEY);
    if (!owner) return null;
    const batch = this.#outbox(owner);
    if (batch) return batch;
    this.#freeze();
    return this.#outbox(owner);
  }

  async #flushOnce(): Promise<number> {
    const owner = this.ctx.storage.kv.get<Owner>(OWNER_KEY);
    const batch = this.outboxBatch();
    if (!owner || !batch) return 0;
    const ack = await tenantStub(this.env, owner.tenant).applyReportBatch(batch);
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM outbox");
      // A session the tenant does not index (ended, swept, or its tenant gone): nothing to keep for it.
      for (const id of ack.unknown) this.#sql.exec("DELETE FROM reports WHERE id = ? AND dirty = 0", id);
    });
    return batch.reports.length;
  }

  #outbox(owner: Owner): ReportBatch | null {
    const rows = this.#sql.exec<{ id: string; report: string }>("SELECT id, report FROM outbox ORDER BY id").toArray();
    if (rows.length === 0) return null;
    const seq = this.ctx.storage.kv.get<number>(BATCH_SEQ_KEY) ?? 0;
    return { shard: owner.shard, seq, reports: rows.map((r) => ({ id: r.id, update: JSON.parse(r.report) as SessionUpdate })) };
  }

  /** Moves up to MAX_BATCH pending reports into the outbox under the next batch seq, in one transaction. */
  #freeze(): void {
    this.ctx.storage.transactionSync(() => {
      const rows = this.#sql.exec<Row>("SELECT * FROM reports WHERE dirty = 1 ORDER BY id LIMIT ?", MAX_BATCH).toArray();
      if (rows.length === 0) return;
      // Never below the clock: a shard that emptied and deleted its storage starts again above
      // every seq it sent before, which the tenant's `report_batches` still holds.
      this.ctx.storage.kv.put(BATCH_SEQ_KEY, Math.max((this.ctx.storage.kv.get<number>(BATCH_SEQ_KEY) ?? 0) + 1, Date.now()));
      for (const r of rows) {
        const update: SessionUpdate = { ...(JSON.parse(r.report) as Totals), metrics: JSON.parse(r.deltas) as SentDelta[] };
        this.#sql.exec("INSERT INTO outbox (id, report) VALUES (?, ?)", r.id, JSON.stringify(update));
        this.#sql.exec("UPDATE reports SET dirty = 0, deltas = '[]' WHERE id = ?", r.id);
      }
    });
  }
}
