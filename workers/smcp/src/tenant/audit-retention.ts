/**
 * Retention of the tenant's audit log that keeps it verifiable: checkpoints, export of
 * the segment before a checkpoint, dropping an exported segment, and paged verification.
 *
 * A checkpoint records the seq and hash of the chain at a point, after verifying the
 * chain up to it; verification then starts there instead of at genesis. The segment
 * from the first remaining row through a checkpoint can be exported (with its hashes
 * and the hash it chains from, so it verifies offline), and only a segment that was
 * exported through a checkpoint can be dropped. The drop raises
 * `audit_retention.droppable_through` and deletes in one transaction; the triggers
 * (tenant-schema.ts, step 6) refuse any other DELETE, any UPDATE, and any mark that
 * is not an exported checkpoint. The first remaining row then chains from the
 * checkpoint's hash. Each of these actions is itself an audit entry, written in the
 * same transaction as its effect, and runs in the log's queue so no append interleaves.
 *
 * Everything reads `AUDIT_PAGE_ROWS` rows at a time: a log of any length is verified
 * or exported without holding it in memory.
 */
import { AUDIT_GENESIS, verifyAuditPage, type AuditEntry, type ChainCursor } from "@smcp/runtime";
import type { AuditLog } from "./audit-log";

export const AUDIT_PAGE_ROWS = 500;
/** Checkpoints listed per call, newest first. */
const CHECKPOINTS_LISTED = 100;

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: number;
}

export interface AuditRetentionState {
  /** The highest checkpoint a complete export reached (0: none). */
  exportedThrough: number;
  /** Rows at or below this seq have been dropped (0: none). */
  droppedThrough: number;
}

/** Where a verification started: genesis, a checkpoint, or the checkpoint a drop ended at. */
export type AuditVerdict = (
  | { ok: true; entries: number }
  | { ok: false; entries: number; brokenAt: number; reason: string }
) & { from: number; through: number; anchor: { seq: number; hash: string } };

export interface AuditSegment {
  from: number;
  through: number;
  /** The hash the segment's first entry chains from (the genesis, or the checkpoint of the previous drop). */
  prevHash: string;
  checkpoint: { seq: number; hash: string };
}

export type SegmentRefusal = { ok: false; reason: "not-a-checkpoint" | "already-dropped" | "not-exported" };

export class AuditRetention {
  readonly #storage: DurableObjectStorage;
  readonly #log: AuditLog;

  constructor(storage: DurableObjectStorage, log: AuditLog) {
    this.#storage = storage;
    this.#log = log;
  }

  get #sql() {
    return this.#storage.sql;
  }

  state(): AuditRetentionState {
    const row = this.#sql
      .exec<{ exported_through: number; droppable_through: number }>("SELECT exported_through, droppable_through FROM audit_retention WHERE id = 1")
      .one();
    return { exportedThrough: row.exported_through, droppedThrough: row.droppable_through };
  }

  checkpoints(): AuditCheckpoint[] {
    return this.#sql
      .exec<{ seq: number; hash: string; at: number }>("SELECT seq, hash, at FROM audit_checkpoints ORDER BY seq DESC LIMIT ?", CHECKPOINTS_LISTED)
      .toArray()
      .map((c) => ({ seq: c.seq, hash: c.hash, at: c.at }));
  }

  /** Verifies the chain since the last checkpoint, then records a checkpoint at its tail. */
  checkpoint(): Promise<{ ok: true; checkpoint: AuditCheckpoint } | { ok: false; reason: "chain-broken"; verdict: Extract<AuditVerdict, { ok: false }> }> {
    return this.#log.exclusive(async () => {
      const verdict = await this.#verify("checkpoint");
      if (!verdict.ok) return { ok: false as const, reason: "chain-broken" as const, verdict };
      const tail = this.#log.tail();
      const checkpoint: AuditCheckpoint = { seq: tail.seq, hash: tail.hash, at: Date.now() };
      const entry = await this.#log.next("admin", "audit.checkpointed", String(tail.seq), { seq: tail.seq, hash: tail.hash });
      this.#storage.transactionSync(() => {
        this.#sql.exec("INSERT INTO audit_checkpoints (seq, hash, at) VALUES (?, ?, ?)", checkpoint.seq, checkpoint.hash, checkpoint.at);
        this.#log.insert(entry);
      });
      return { ok: true as const, checkpoint };
    });
  }

  /**
   * One page of the segment from the first remaining row through the checkpoint
   * `through`, after `after`. The page that reaches `through` completes the export:
   * it records `exported_through` (which a drop needs) and an `audit.exported` entry.
   */
  async exportPage(
    through: number,
    after: number,
    limit: number,
  ): Promise<{ ok: true; segment: AuditSegment; entries: AuditEntry[]; done: boolean } | SegmentRefusal> {
    const checked = this.#segment(through);
    if (!checked.ok) return checked;
    const { segment } = checked;
    const rows = Math.max(1, Math.min(AUDIT_PAGE_ROWS, Math.trunc(limit) || 1));
    const entries = this.#log.rows(
      "SELECT * FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      Math.max(after, segment.from - 1),
      through,
      rows,
    );
    const done = (entries.at(-1)?.seq ?? after) >= through;
    if (done) {
      await this.#log.exclusive(async () => {
        const entry = await this.#log.next("admin", "audit.exported", String(through), { from: segment.from, through });
        this.#storage.transactionSync(() => {
          this.#sql.exec("UPDATE audit_retention SET exported_through = max(exported_through, ?) WHERE id = 1", through);
          this.#log.insert(entry);
        });
      });
    }
    return { ok: true, segment, entries, done };
  }

  /** Drops the exported segment through the checkpoint `through`: the only way rows leave `audit`. */
  drop(through: number): Promise<{ ok: true; dropped: number; through: number } | SegmentRefusal> {
    return this.#log.exclusive(async () => {
      const checked = this.#segment(through);
      if (!checked.ok) return checked;
      if (through > this.state().exportedThrough) return { ok: false as const, reason: "not-exported" as const };
      const { segment } = checked;
      const dropped = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM audit WHERE seq <= ?", through).one().n;
      const entry = await this.#log.next("admin", "audit.dropped", String(through), {
        from: segment.from,
        through,
        rows: dropped,
        hash: segment.checkpoint.hash,
      });
      this.#storage.transactionSync(() => {
        this.#sql.exec("UPDATE audit_retention SET droppable_through = ? WHERE id = 1", through);
        this.#sql.exec("DELETE FROM audit WHERE seq <= ?", through);
        this.#log.insert(entry);
      });
      return { ok: true as const, dropped, through };
    });
  }

  /**
   * Verifies from the last checkpoint (`from: "checkpoint"`, the default) or from the
   * first remaining row (`"start"`), anchored on the checkpoint the last drop ended at
   * (or the genesis), up to the tail as it is now.
   */
  async verify(from: "checkpoint" | "start" = "checkpoint"): Promise<AuditVerdict> {
    await this.#log.settled();
    return this.#verify(from);
  }

  async #verify(from: "checkpoint" | "start"): Promise<AuditVerdict> {
    const droppedThrough = this.state().droppedThrough;
    const newest = from === "checkpoint" ? this.checkpoints()[0] : undefined;
    const anchor = newest ?? (droppedThrough > 0 ? this.#checkpointAt(droppedThrough) : undefined) ?? { seq: 0, hash: AUDIT_GENESIS };
    const through = this.#log.tail().seq;
    const base = { from: anchor.seq + 1, through, anchor: { seq: anchor.seq, hash: anchor.hash } };
    // A checkpoint above the dropped segment still has its row: it must not have changed.
    if (anchor.seq > droppedThrough) {
      const row = this.#sql.exec<{ hash: string }>("SELECT hash FROM audit WHERE seq = ?", anchor.seq).toArray()[0];
      if (row?.hash !== anchor.hash) return { ...base, ok: false, entries: 0, brokenAt: anchor.seq, reason: "the checkpointed entry is missing or changed" };
    }
    let cursor: ChainCursor = { nextSeq: anchor.seq + 1, prevHash: anchor.hash, entries: 0 };
    let after = anchor.seq;
    for (;;) {
      const page = this.#log.rows("SELECT * FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, through, AUDIT_PAGE_ROWS);
      if (page.length === 0) break;
      const step = await verifyAuditPage(page, cursor);
      if (!step.ok) return { ...base, ok: false, entries: step.entries, brokenAt: step.brokenAt, reason: step.reason };
      const moved = this.#sql
        .exec<{ seq: number }>(
          "SELECT c.seq FROM audit_checkpoints c JOIN audit a ON a.seq = c.seq WHERE c.seq > ? AND c.seq <= ? AND a.hash <> c.hash LIMIT 1",
          after,
          page.at(-1)!.seq,
        )
        .toArray()[0];
      if (moved) return { ...base, ok: false, entries: step.cursor.entries, brokenAt: moved.seq, reason: "the entry no longer has its checkpointed hash" };
      cursor = step.cursor;
      after = page.at(-1)!.seq;
      if (page.length < AUDIT_PAGE_ROWS) break;
    }
    if (cursor.nextSeq !== through + 1) {
      return { ...base, ok: false, entries: cursor.entries, brokenAt: cursor.nextSeq, reason: `expected seq ${cursor.nextSeq}` };
    }
    return { ...base, ok: true, entries: cursor.entries };
  }

  /** Checks that `through` can bound a segment: a checkpoint above the dropped rows. */
  #segment(through: number): { ok: true; segment: AuditSegment } | SegmentRefusal {
    const checkpoint = this.#checkpointAt(through);
    if (!checkpoint) return { ok: false, reason: "not-a-checkpoint" };
    const droppedThrough = this.state().droppedThrough;
    if (through <= droppedThrough) return { ok: false, reason: "already-dropped" };
    const prevHash = droppedThrough > 0 ? this.#checkpointAt(droppedThrough)!.hash : AUDIT_GENESIS;
    return { ok: true, segment: { from: droppedThrough + 1, through, prevHash, checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash } } };
  }

  #checkpointAt(seq: number): AuditCheckpoint | undefined {
    const row = this.#sql.exec<{ seq: number; hash: string; at: number }>("SELECT seq, hash, at FROM audit_checkpoints WHERE seq = ?", seq).toArray()[0];
    return row ? { seq: row.seq, hash: row.hash, at: row.at } : undefined;
  }
}
