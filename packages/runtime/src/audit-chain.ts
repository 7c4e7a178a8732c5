/**
 * The hash chain of a tenant's audit log.
 *
 * Each entry's hash is SHA-256 over the previous entry's hash and the entry's own
 * fields in a fixed order, so editing, deleting or reordering any stored entry breaks
 * every hash after it. The first entry chains from a fixed genesis value. Verification
 * recomputes the chain from the stored fields and reports the first entry that does
 * not match.
 */
import { sha256Hex } from "./secrets";

export const AUDIT_GENESIS = "0".repeat(64);

export interface AuditFields {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  /** JSON text; never a secret. */
  detail: string;
}

export interface AuditEntry extends AuditFields {
  prevHash: string;
  hash: string;
}

export function auditHash(prevHash: string, fields: AuditFields): Promise<string> {
  return sha256Hex(JSON.stringify([prevHash, fields.seq, fields.at, fields.actor, fields.action, fields.target, fields.detail]));
}

export type ChainVerdict = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; reason: string };

/** Where a verification stands: the next `seq` expected and the hash it must chain from. */
export interface ChainCursor {
  nextSeq: number;
  prevHash: string;
  /** Entries checked so far. */
  entries: number;
}

export type ChainStep = { ok: true; cursor: ChainCursor } | { ok: false; entries: number; brokenAt: number; reason: string };

/**
 * Checks one page of entries in `seq` order, continuing from `cursor`; feed the
 * returned cursor to the next page. Pages let a long log be verified without holding
 * it in memory, and let a segment be verified from a checkpoint instead of genesis.
 */
export async function verifyAuditPage(entries: AuditEntry[], cursor: ChainCursor): Promise<ChainStep> {
  let { nextSeq, prevHash, entries: checked } = cursor;
  for (const entry of entries) {
    if (entry.seq !== nextSeq) return { ok: false, entries: checked, brokenAt: entry.seq, reason: `expected seq ${nextSeq}` };
    if (entry.prevHash !== prevHash) return { ok: false, entries: checked, brokenAt: entry.seq, reason: "prevHash does not match the previous entry" };
    if ((await auditHash(entry.prevHash, entry)) !== entry.hash) return { ok: false, entries: checked, brokenAt: entry.seq, reason: "hash does not match the entry's fields" };
    prevHash = entry.hash;
    nextSeq++;
    checked++;
  }
  return { ok: true, cursor: { nextSeq, prevHash, entries: checked } };
}

/** Checks entries in `seq` order, starting from `prevHash` (the genesis for a whole log). */
export async function verifyAuditChain(entries: AuditEntry[], prevHash = AUDIT_GENESIS): Promise<ChainVerdict> {
  const step = await verifyAuditPage(entries, { nextSeq: entries[0]?.seq ?? 1, prevHash, entries: 0 });
  return step.ok ? { ok: true, entries: entries.length } : { ok: false, entries: entries.length, brokenAt: step.brokenAt, reason: step.reason };
}
