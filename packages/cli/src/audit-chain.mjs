/**
 * Offline check of an exported audit segment: the same hash chain as
 * packages/runtime/src/audit-chain.ts (SHA-256 over the previous hash and the entry's
 * fields, in a fixed order), re-done here because the CLI is plain ESM with no
 * dependencies. An export verifies when its entries chain from `segment.prevHash`, run
 * without a gap from `segment.from` to `segment.through`, and end at the checkpoint's hash.
 */
import { createHash } from "node:crypto";

/** @param {string} prevHash @param {{ seq: number, at: number, actor: string, action: string, target: string, detail: string }} e */
const hashOf = (prevHash, e) =>
  createHash("sha256").update(JSON.stringify([prevHash, e.seq, e.at, e.actor, e.action, e.target, e.detail])).digest("hex");

/**
 * @param {any} data the body of GET .../audit/export
 * @returns {{ ok: true, entries: number } | { ok: false, entries: number, brokenAt: number, reason: string }}
 */
export function verifyExport(data) {
  const segment = data?.segment;
  const entries = Array.isArray(data?.entries) ? data.entries : null;
  if (!segment || !entries) return { ok: false, entries: 0, brokenAt: 0, reason: "not an audit export (no segment or entries)" };
  let prevHash = segment.prevHash;
  let seq = segment.from;
  for (const entry of entries) {
    if (entry.seq !== seq) return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: `expected seq ${seq}` };
    if (entry.prevHash !== prevHash) return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: "prevHash does not match the previous entry" };
    if (typeof entry.detail !== "string" || hashOf(prevHash, entry) !== entry.hash) {
      return { ok: false, entries: entries.length, brokenAt: entry.seq, reason: "hash does not match the entry's fields" };
    }
    prevHash = entry.hash;
    seq++;
  }
  if (seq - 1 !== segment.through) return { ok: false, entries: entries.length, brokenAt: seq, reason: `the segment ends before ${segment.through}` };
  if (prevHash !== segment.checkpoint?.hash) return { ok: false, entries: entries.length, brokenAt: segment.through, reason: "the last hash is not the checkpoint's" };
  return { ok: true, entries: entries.length };
}
