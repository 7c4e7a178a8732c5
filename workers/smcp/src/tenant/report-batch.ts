/**
 * What a report shard (tenant/report-shard-do.ts) and the tenant object agree on: the
 * batch a shard flushes, the tenant's answer, the bounds both apply, and which shard a
 * session reports to. No runtime imports, so the tenant and unit tests can use it alone.
 */
import type { SentDelta } from "../mcp/request-log";
import type { SessionUpdate } from "./types";

/** Reports one batch carries; more wait for the next flush, which comes at once. */
export const MAX_BATCH = 2_000;
/** Deltas kept per session (each under its own seq), and their bytes as JSON. */
export const MAX_DELTAS = 16;
export const MAX_ROW_BYTES = 32 * 1024;

export interface ReportBatch {
  shard: number;
  seq: number;
  reports: { id: string; update: SessionUpdate }[];
}

/** The tenant's answer to a batch: the sessions it does not index, whose rows the shard can drop. */
export interface ReportBatchAck {
  ok: true;
  duplicate: boolean;
  unknown: string[];
}

/** FNV-1a of the session id: the shard of a session, stable across isolates. */
export function shardOf(sessionId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

export const reportShardName = (tenant: string, shard: number) => `reports:${tenant}/${shard}`;

/** Deltas by seq, oldest first, bounded in count and bytes (the oldest go first). */
export function mergeDeltas(...lists: SentDelta[][]): SentDelta[] {
  const bySeq = new Map<number, SentDelta>();
  for (const list of lists) for (const d of list) if (typeof d?.seq === "number" && !bySeq.has(d.seq)) bySeq.set(d.seq, d);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_DELTAS);
  while (merged.length > 0 && JSON.stringify(merged).length > MAX_ROW_BYTES) merged.shift();
  return merged;
}

