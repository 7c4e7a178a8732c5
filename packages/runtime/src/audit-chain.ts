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

/** Checks entries in `seq` order, starting from `prevHash` (the genesis for a whole log). */
export async function verifyAuditChain(entries: AuditEntry[], prevHash = AUDIT_GENESIS): Promise<ChainVerdict> {
  let expectedPrev = prevHash;
  let expectedSeq = entries[0]?.seq ?? 1;
  for (const entry of entries) {
    if (entry.seq !== expectedSeq) return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: `expected seq ${expectedSeq}` };
    if (entry.prevHash !== expectedPrev) return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: "prevHash does not match the previous entry" };
    if ((await auditHash(entry.prevHash, entry)) !== entry.hash) return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: "hash does not match the entry's fields" };
    expectedPrev = entry.hash;
    expectedSeq++;
  }
  return { ok: true, entries: entries.length };
}
