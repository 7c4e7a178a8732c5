/**
 * Per-tenant request rate limiting without a global bottleneck.
 *
 * Each tenant's token bucket lives in that tenant's Durable Object. A Worker isolate
 * leases a small batch of tokens (a twentieth of a second's worth) and spends it
 * locally, so the tenant object sees one call per batch instead of one per request,
 * and no object is shared between tenants. An unused lease lapses after a second.
 * Over the limit: 429 with `Retry-After`; nothing already stored is touched.
 */
import { BoundedCache, wire } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";

const LEASE_MS = 1_000;

interface Lease {
  tokens: number;
  until: number;
  limit: number;
}

/** A lease is three numbers (about 24 bytes) besides its tenant name; kept a little past its lapse so the next batch size is known. */
const leases = new BoundedCache<Lease>({ maxBytes: 1024 * 1024, ttlMs: 10 * LEASE_MS, sizeOf: () => 24 });

export async function admitRequest(env: Env, tenant: string): Promise<void> {
  const now = Date.now();
  const lease = leases.get(tenant);
  if (lease && lease.until > now && lease.tokens > 0) {
    lease.tokens--;
    return;
  }
  const want = lease ? Math.max(1, Math.ceil(lease.limit / 20)) : 1;
  const result = await tenantStub(env, tenant).takeTokens(want);
  if (!result.ok) return; // unknown tenant: authentication answers that
  const { granted, retryAfterMs, limit } = result;
  if (granted === 0) {
    leases.set(tenant, { tokens: 0, until: now, limit });
    throw wire.tooManyRequests(
      "rate_limited",
      `Rate limit exceeded: this tenant may send ${limit} requests per second`,
      Math.max(1, Math.ceil(retryAfterMs / 1000)),
    );
  }
  leases.set(tenant, { tokens: granted - 1, until: now + LEASE_MS, limit });
}
