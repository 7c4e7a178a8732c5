/**
 * The tenant's append-only audit log (table `audit`), a SHA-256 hash chain.
 *
 * Appends are serialised through one promise chain: each entry needs the previous
 * entry's hash, and hashing awaits, so two concurrent appends must not both read the
 * same tail. SQLite triggers (tenant-schema.ts) refuse UPDATE and DELETE; `verify`
 * recomputes the chain so that tampering below SQL is detected too.
 */
import { AUDIT_GENESIS, auditHash, verifyAuditChain, type AuditEntry, type ChainVerdict } from "@smcp/runtime";

export class AuditLog {
  readonly #sql: SqlStorage;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  append(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    const write = async () => {
      const last = this.#sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").toArray()[0];
      const fields = { seq: (last?.seq ?? 0) + 1, at: Date.now(), actor, action, target, detail: JSON.stringify(detail) };
      const prevHash = last?.hash ?? AUDIT_GENESIS;
      const hash = await auditHash(prevHash, fields);
      this.#sql.exec(
        "INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        fields.seq,
        fields.at,
        actor,
        action,
        target,
        fields.detail,
        prevHash,
        hash,
      );
    };
    const next = this.#tail.then(write, write);
    this.#tail = next.catch(() => {});
    return next;
  }

  page(afterSeq: number, limit: number): AuditEntry[] {
    return this.#rows("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
  }

  async verify(): Promise<ChainVerdict> {
    await this.#tail;
    return verifyAuditChain(this.#rows("SELECT * FROM audit ORDER BY seq"));
  }

  #rows(query: string, ...bindings: unknown[]): AuditEntry[] {
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
