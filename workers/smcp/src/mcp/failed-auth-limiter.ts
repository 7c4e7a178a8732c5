/**
 * The per-isolate limit on failed authentications, in front of the tenant object.
 *
 * It counts failures only, per tenant in a fixed window, and it can never refuse a
 * valid key: once tripped, it answers only bearers whose digest already failed for
 * this tenant (a key digest that failed stays failed: keys are 256 random bits and
 * never come back from revocation), across every server name, for a minute. A bearer
 * it has not seen fails or passes at the tenant object as usual, so a valid key passes
 * while a stranger floods the tenant. What the limiter saves is the repeats: a client
 * or a stranger hammering with the same bad key costs the tenant object nothing.
 *
 * Why not coalesce unseen bearers into batched calls: a Worker cannot hand one
 * request's I/O to another (workerd refuses to resolve a request's promise from
 * another request's I/O), so every check that reaches the tenant is that request's
 * own call. Those calls are cheap for the tenant (an indexed lookup and an in-memory
 * counter, tenant/auth-failures.ts), and only repeats are worth saving.
 *
 * Refusals the limiter answers are counted, not lost: each tenant's count goes to the
 * tenant object in one call, with the first failure of the tenant seen after a window
 * (so at most one call per window per isolate). What an isolate answered in its last
 * window before it went away is not reported.
 *
 * Every state here is in a bounded cache keyed by tenant name or by digest.
 */
import { waitUntil } from "cloudflare:workers";
import { BoundedCache } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { logEvent } from "../log";

/** Failures of a tenant within one window that trip the limiter, for the rest of the window. */
export const TRIP_AFTER_FAILURES = 20;
export const FAILURE_WINDOW_MS = 10_000;
/** How long a failed key digest is answered here once the limiter is tripped. */
const FAILED_DIGEST_MS = 60_000;

const windows = new BoundedCache<{ failures: number }>({ maxBytes: 256 * 1024, ttlMs: FAILURE_WINDOW_MS, sizeOf: () => 16 });
/** `{tenant} {key digest}` of keys that failed; the digest is 64 hex characters, the value nothing. */
const failedDigests = new BoundedCache<true>({ maxBytes: 2 * 1024 * 1024, ttlMs: FAILED_DIGEST_MS, sizeOf: () => 8 });
/** Refusals answered here and not yet reported, per tenant. */
const answered = new BoundedCache<{ count: number; since: number }>({ maxBytes: 256 * 1024, ttlMs: 10 * 60_000, sizeOf: () => 16 });

/** Whether the tenant had enough failures in this isolate's window to answer known-bad digests here (also read by tests). */
export function failedAuthTripped(tenant: string, now = Date.now()): boolean {
  return (windows.get(tenant, now)?.failures ?? 0) >= TRIP_AFTER_FAILURES;
}

/** A check of the tenant object failed. `keyHash`: the digest of the key that failed, if it was a key. */
export function noteFailedAuth(env: Env, tenant: string, keyHash: string | null, now = Date.now()): void {
  const window = windows.get(tenant, now);
  if (window) window.failures++;
  else windows.set(tenant, { failures: 1 }, now);
  if (keyHash) failedDigests.set(`${tenant} ${keyHash}`, true, now);
  reportAnswered(env, tenant, now);
}

/** True when the limiter refuses this key itself: tripped, and the digest already failed here. */
export function refuseKnownBadKey(env: Env, tenant: string, keyHash: string, now = Date.now()): boolean {
  if (!failedAuthTripped(tenant, now) || !failedDigests.get(`${tenant} ${keyHash}`, now)) return false;
  const tally = answered.get(tenant, now);
  if (tally) tally.count++;
  else answered.set(tenant, { count: 1, since: now }, now);
  reportAnswered(env, tenant, now);
  return true;
}

function reportAnswered(env: Env, tenant: string, now: number): void {
  const tally = answered.get(tenant, now);
  if (!tally || now - tally.since < FAILURE_WINDOW_MS) return;
  answered.delete(tenant);
  waitUntil(
    tenantStub(env, tenant)
      .recordAuthFailures("invalid-key", tally.count)
      .catch((err: unknown) => logEvent("warn", "failed-auth report lost", { tenant, count: tally.count, error: String(err) })),
  );
}
