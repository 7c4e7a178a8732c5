/**
 * The per-isolate limit on failed authentications, in front of the tenant object.
 *
 * It counts failures only (per tenant, in a fixed window), and tripping it never
 * refuses anything: a valid key must pass while a stranger floods the tenant with
 * random bearers, and only the tenant object can tell a valid key from a random one.
 * What tripping changes is how the checks reach the tenant object: instead of one RPC
 * per request, the checks of a tripped tenant are coalesced, with at most one
 * `authorizeBearers` call in flight per tenant in this isolate, carrying every check
 * that arrived meanwhile (up to `MAX_BEARER_CHECKS`). A flood then costs the tenant
 * object one call per round trip per isolate, and a valid key waits at most one
 * round trip longer than usual. Failures keep being counted by the tenant object
 * (tenant/auth-failures.ts), so the audit's counts stay exact.
 *
 * A batch is always sent from a request that waits for it: when a batch returns, the
 * first waiting request is handed the next one, so no RPC outlives its request.
 * `lanes` is not a cache: an entry exists only while a batch is in flight, and holds
 * only requests that are waiting. The failure windows are in a bounded cache (by
 * tenant name; a stranger choosing many tenant names can push a window out, which
 * only un-trips that tenant here).
 */
import { BoundedCache } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { MAX_BEARER_CHECKS, type BearerCheck, type BearerDecision } from "../tenant-do";

/** Failures of a tenant within one window that trip the limiter, for the rest of the window. */
export const TRIP_AFTER_FAILURES = 20;
export const FAILURE_WINDOW_MS = 10_000;

const windows = new BoundedCache<{ failures: number }>({ maxBytes: 256 * 1024, ttlMs: FAILURE_WINDOW_MS, sizeOf: () => 16 });

export function noteFailedAuth(tenant: string, now = Date.now()): void {
  const window = windows.get(tenant, now);
  if (window) window.failures++;
  else windows.set(tenant, { failures: 1 }, now);
}

/** Whether this isolate coalesces the tenant's checks now (also read by tests). */
export function failedAuthTripped(tenant: string, now = Date.now()): boolean {
  return (windows.get(tenant, now)?.failures ?? 0) >= TRIP_AFTER_FAILURES;
}

type Outcome = { decision: BearerDecision } | { error: unknown } | { lead: true };
interface Waiter {
  check: BearerCheck;
  settle(outcome: Outcome): void;
}
interface Lane {
  queue: Waiter[];
}

const lanes = new Map<string, Lane>();

/** One check, answered as part of the tenant's next batch. */
export async function checkCoalesced(env: Env, tenant: string, check: BearerCheck): Promise<BearerDecision> {
  let lane = lanes.get(tenant);
  if (lane) {
    const waiting = lane;
    const outcome = await new Promise<Outcome>((settle) => waiting.queue.push({ check, settle }));
    if ("decision" in outcome) return outcome.decision;
    if ("error" in outcome) throw outcome.error;
    // Handed the lane: this request sends the next batch.
  } else {
    lanes.set(tenant, (lane = { queue: [] }));
  }
  return sendBatch(env, tenant, lane, check);
}

async function sendBatch(env: Env, tenant: string, lane: Lane, own: BearerCheck): Promise<BearerDecision> {
  const others = lane.queue.splice(0, MAX_BEARER_CHECKS - 1);
  let decisions: BearerDecision[];
  try {
    decisions = await tenantStub(env, tenant).authorizeBearers([own, ...others.map((w) => w.check)]);
  } catch (error) {
    handOver(tenant, lane);
    for (const w of others) w.settle({ error });
    throw error;
  }
  handOver(tenant, lane);
  others.forEach((w, i) => w.settle({ decision: decisions[i + 1]! }));
  return decisions[0]!;
}

function handOver(tenant: string, lane: Lane): void {
  const next = lane.queue.shift();
  if (next) next.settle({ lead: true });
  else lanes.delete(tenant);
}

