/**
 * Metrics of requests that no session object sees: the stateless lane's, and the
 * refusals the routing Worker answers itself once the caller is authenticated (rate
 * limit, bad body, a session refused at its start). They are
 * counted in this isolate's memory, per tenant, as a delta per server (metrics/delta.ts),
 * and flushed to the tenant object in one batched call: `FLUSH_MS` after the first
 * request counted since the last flush (a timer kept alive by `waitUntil`), or at once
 * when `FLUSH_REQUESTS` piled up. So a busy isolate costs its tenant one call every few
 * seconds, never one per request.
 *
 * Bounded: the pending counts live in the runtime's BoundedCache, each tenant's entry
 * at most `MAX_SERVERS` servers (further names count as `_other`) of bounded deltas,
 * estimated by the series cells it holds. An entry the cache lets go still flushes what
 * it held when its timer fires (it is scheduled with the first count), so the memory of
 * counts past the cache's bound lasts at most `FLUSH_MS`.
 * Nothing is counted for a caller that did not authenticate, so no stranger's request
 * leads to a call to a Durable Object.
 */
import { waitUntil } from "cloudflare:workers";
import { BoundedCache } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import { OTHER_TOOL, record, requestsIn, type MetricsDelta } from "./delta";
import type { ErrorKind } from "./error-kinds";
import { metricsEnabled } from "./switch";

export const FLUSH_MS = 5_000;
export const FLUSH_REQUESTS = 1_000;
const MAX_SERVERS = 8;
/** Estimated bytes of one series cell (its key, 21 numbers, the object) and of an entry's own fields. */
const CELL_BYTES = 400;
const ENTRY_BYTES = 512;

interface Pending {
  tenant: string;
  /** The tenant incarnation the counts are for (another incarnation's tenant drops them). */
  incarnation: string;
  servers: Map<string, MetricsDelta>;
  /** Series cells held, for the cache's estimate (re-stated whenever one is added). */
  cells: number;
  requests: number;
  scheduled: boolean;
}

const pending = new BoundedCache<Pending>({ maxBytes: 4 * 1024 * 1024, ttlMs: 10 * 60_000, sizeOf: (p) => ENTRY_BYTES + p.cells * CELL_BYTES });

export interface IsolateOutcome {
  tenant: string;
  incarnation: string;
  server: string;
  method: string;
  tool: string | null;
  kind: ErrorKind | null;
  durationMs: number;
}

export function recordIsolate(env: Env, o: IsolateOutcome): void {
  if (!metricsEnabled()) return;
  const key = `${o.tenant}~${o.incarnation}`;
  let entry = pending.get(key);
  if (!entry) pending.set(key, (entry = { tenant: o.tenant, incarnation: o.incarnation, servers: new Map(), cells: 0, requests: 0, scheduled: false }));
  const server = entry.servers.has(o.server) || entry.servers.size < MAX_SERVERS ? o.server : OTHER_TOOL;
  let delta = entry.servers.get(server);
  if (!delta) entry.servers.set(server, (delta = {}));
  if (record(delta, Date.now(), o.method, o.tool, o.kind, o.durationMs)) {
    entry.cells++;
    pending.set(key, entry); // the estimate grew with the entry
  }
  entry.requests++;
  if (entry.requests >= FLUSH_REQUESTS) {
    waitUntil(flush(env, entry));
  } else if (!entry.scheduled) {
    entry.scheduled = true;
    waitUntil(new Promise((r) => setTimeout(r, FLUSH_MS)).then(() => flush(env, entry)));
  }
}

/** Sends what `entry` holds now and empties it; counts added meanwhile wait for the next flush. */
async function flush(env: Env, entry: Pending): Promise<void> {
  const servers = [...entry.servers].map(([server, delta]) => ({ server, delta }));
  entry.servers = new Map();
  entry.cells = 0;
  entry.requests = 0;
  entry.scheduled = false;
  if (servers.every((s) => requestsIn(s.delta) === 0)) return;
  try {
    await tenantStub(env, entry.tenant).metricsFlush({ servers }, entry.incarnation);
  } catch (err) {
    logEvent("warn", "metrics flush failed", { tenant: entry.tenant, error: String(err) });
  }
}
