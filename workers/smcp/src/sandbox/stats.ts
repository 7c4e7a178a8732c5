/**
 * Call and error counts of deployed servers, for the admin view (error rate, last
 * errors). Each isolate counts in memory and reports to the tenant's Durable Object
 * in the background: at once when a call failed (so an admin sees the error right
 * away), otherwise at most every few seconds, so a healthy server costs the tenant
 * object one call per interval and isolate, not one per tool call. The counts wait
 * in a map bounded in bytes; over the bound the oldest entries are reported and go.
 */
import { waitUntil } from "cloudflare:workers";
import { tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import type { DeploymentError } from "./deployment-store";
import { STATS_FLUSH_MS } from "./limits";

interface Pending {
  calls: number;
  errors: number;
  recent: DeploymentError[];
  flushedAt: number;
}

// bounded-cache: fold into the runtime helper at merge
/** By `tenant/server/version`, oldest first; bounded in bytes (an entry's estimate: its key, counters and up to `keptErrors` recent errors). */
const pending = new Map<string, Entry>();
const PENDING_MAX_BYTES = 1024 * 1024;
const ENTRY_BYTES = 128;
let pendingBytes = 0;

/** `base`: the estimate of the entry without recent errors; `bytes`: with them. */
type Entry = Pending & Pick<CallOutcome, "tenant" | "server" | "version"> & { base: number; bytes: number };

const errorBytes = (e: DeploymentError) => 2 * (e.kind.length + e.message.length) + 32;

export interface CallOutcome {
  tenant: string;
  server: string;
  version: number;
  /** Set when the call failed: what kind of failure, and its message. */
  error?: { kind: string; message: string };
}

export function recordCall(env: Env, outcome: CallOutcome): void {
  const key = `${outcome.tenant}/${outcome.server}/${outcome.version}`;
  let entry = pending.get(key);
  if (!entry) {
    const { tenant, server, version } = outcome;
    const base = ENTRY_BYTES + 2 * key.length;
    entry = { tenant, server, version, calls: 0, errors: 0, recent: [], flushedAt: 0, base, bytes: base };
    pending.set(key, entry);
    pendingBytes += entry.bytes;
  }
  entry.calls++;
  if (outcome.error) {
    entry.errors++;
    const error = { version: outcome.version, at: Date.now(), ...outcome.error };
    entry.recent.push(error);
    entry.bytes += errorBytes(error);
    pendingBytes += errorBytes(error);
    logEvent("warn", "deployed server call failed", { tenant: outcome.tenant, server: outcome.server, version: outcome.version, ...outcome.error });
  }
  const now = Date.now();
  if (outcome.error || now - entry.flushedAt >= STATS_FLUSH_MS) flush(env, entry, now);
  // Over the bound: the oldest entries go, their counts reported first.
  for (const [oldKey, old] of pending) {
    if (pendingBytes <= PENDING_MAX_BYTES || oldKey === key) break;
    if (old.calls > 0) flush(env, old, now);
    pendingBytes -= old.bytes;
    pending.delete(oldKey);
  }
}

function flush(env: Env, entry: Entry, now: number): void {
  const { tenant, server, version } = entry;
  const report = { calls: entry.calls, errors: entry.errors, recent: entry.recent };
  pendingBytes -= entry.bytes - entry.base;
  Object.assign(entry, { calls: 0, errors: 0, recent: [], flushedAt: now, bytes: entry.base });
  waitUntil(
    tenantStub(env, tenant)
      .deploymentReport(server, version, report)
      .then(() => undefined)
      .catch((err: unknown) => logEvent("warn", "deployment stats report failed", { tenant, server, error: String(err) })),
  );
}
