/**
 * The tenant's append-only audit log (table `audit`), a SHA-256 hash chain.
 *
 * Appends are serialised through one promise chain: each entry needs the previous
 * entry's hash, and hashing awaits, so two concurrent appends must not both read the
 * same tail. SQLite triggers (tenant-schema.ts) refuse UPDATE, and DELETE of anything
 * but an exported segment (tenant/audit-retention.ts owns retention and verification);
 * `verify` recomputes the chain so that tampering below SQL is detected too.
 */
import { AUDIT_GENESIS, auditHash, type AuditEntry } from "@smcp/runtime";
import { resolveAdminActor } from "./acting-admin";

export class AuditLog {
  readonly #sql: SqlStorage;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  append(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    return this.exclusive(async () => this.insert(await this.next(actor, action, target, detail)));
  }

  /** Runs `work` after every earlier append or exclusive work and before any later one. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Resolves when every append queued so far is stored. */
  settled(): Promise<unknown> {
    return this.#queue;
  }

  /** The entry that would follow the tail now; only inside `exclusive`, so the tail cannot move. */
  async next(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<AuditEntry> {
    const last = this.tail();
    // An admin action taken with a tenant admin key is that key's (tenant/acting-admin.ts).
    const fields = { seq: last.seq + 1, at: Date.now(), actor: resolveAdminActor(actor), action, target, detail: JSON.stringify(detail) };
    return { ...fields, prevHash: last.hash, hash: await auditHash(last.hash, fields) };
  }

  insert(entry: AuditEntry): void {
    this.#sql.exec(
      "INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      entry.seq,
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      entry.detail,
      entry.prevHash,
      entry.hash,
    );
  }

  /** The newest entry's seq and hash; with every row dropped, the checkpoint the drop ended at. */
  tail(): { seq: number; hash: string } {
    const last = this.#sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").toArray()[0];
    if (last) return { seq: last.seq, hash: last.hash };
    const dropped = this.#sql
      .exec<{ seq: number; hash: string }>(
        "SELECT c.seq, c.hash FROM audit_retention r JOIN audit_checkpoints c ON c.seq = r.droppable_through WHERE r.id = 1",
      )
      .toArray()[0];
    return dropped ? { seq: dropped.seq, hash: dropped.hash } : { seq: 0, hash: AUDIT_GENESIS };
  }

  page(afterSeq: number, limit: number): AuditEntry[] {
    return this.rows("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
  }

  rows(query: string, ...bindings: unknown[]): AuditEntry[] {
    return this.#sql
      .exec<{ seq: number; at: number; actor: string; action: string; target: string; detail: string; prev_hash: string; hash: string }>(
        query,
        ...bindings,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, detail: r.detail, prevHash: r.prev_hash, hash: r.hash }));
  }
}

/** The audit actor of a request made with a key (or without one). */
export const actorOf = (keyId: string | null) => (keyId ? `key:${keyId}` : "anonymous");

/** The audit actor of a session's own acts: its OAuth grant when it has one (the client acts, not the key that approved it), else its key. */
export const sessionActorOf = (s: { keyId: string | null; grantId?: string | null }) => (s.grantId ? `grant:${s.grantId}` : actorOf(s.keyId));
