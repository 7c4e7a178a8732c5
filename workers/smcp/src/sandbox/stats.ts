/**
 * Call and error counts of deployed servers, for the admin view (error rate, last
 * errors). Each isolate counts in memory and reports to the tenant's Durable Object
 * in the background: at once when a call failed (so an admin sees the error right
 * away), otherwise at most every few seconds, so a healthy server costs the tenant
 * object one call per interval and isolate, not one per tool call.
 *
 * The counters are held in a bounded cache (a few numbers and at most the one error
 * being reported per entry, estimated at 1 KiB with the error's text): an isolate that
 * meets very many deployed versions forgets the least recently called ones' unreported
 * counts rather than grow.
 */
import { waitUntil } from "cloudflare:workers";
import { BoundedCache, tenantIncarnationName } from "@smcp/runtime";
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

const pending = new BoundedCache<Pending>({ maxBytes: 2 * 1024 * 1024, ttlMs: 60 * 60_000, sizeOf: () => 1_024 });

export interface CallOutcome {
  tenant: string;
  incarnation: string;
  server: string;
  version: number;
  /** Set when the call failed: what kind of failure, and its message. */
  error?: { kind: string; message: string };
}

export function recordCall(env: Env, outcome: CallOutcome): void {
  const key = `${tenantIncarnationName(outcome.tenant, outcome.incarnation)}/${outcome.server}/${outcome.version}`;
  let entry = pending.get(key);
  if (!entry) pending.set(key, (entry = { calls: 0, errors: 0, recent: [], flushedAt: 0 }));
  entry.calls++;
  if (outcome.error) {
    entry.errors++;
    entry.recent.push({ version: outcome.version, at: Date.now(), ...outcome.error });
    logEvent("warn", "deployed server call failed", { tenant: outcome.tenant, server: outcome.server, version: outcome.version, ...outcome.error });
  }
  const now = Date.now();
  if (!outcome.error && now - entry.flushedAt < STATS_FLUSH_MS) return;
  const report = { calls: entry.calls, errors: entry.errors, recent: entry.recent };
  Object.assign(entry, { calls: 0, errors: 0, recent: [], flushedAt: now });
  waitUntil(
    tenantStub(env, outcome.tenant)
      .deploymentReport(outcome.server, outcome.version, report, outcome.incarnation)
      .then(() => undefined)
      .catch((err: unknown) => logEvent("warn", "deployment stats report failed", { tenant: outcome.tenant, server: outcome.server, error: String(err) })),
  );
}
