/**
 * Health of upstream servers (tenant/upstream-health.ts, gateway/health-probe.ts): the
 * probe runs on the tenant object's alarm right after `PUT .../upstream`, and the
 * schedule backs off while it fails. The pool has no MCP server to reach (and no
 * SMCP_ALLOW_LOOPBACK_EGRESS), so the probes here fail, against a reserved name
 * (`.invalid`, RFC 2606, which SMCP fails without a lookup) or for want of a secret; the success path, latency and
 * tools count are proven against a real upstream in test/e2e/upstream-health.test.ts.
 * The alarm is run by the test (`runDurableObjectAlarm`) rather than waited for.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantDO } from "../src/tenant-do";
import { MAX_ERROR_CHARS, UpstreamHealth } from "../src/tenant/upstream-health";
import { admin, adminOk, mcpFetch, mcpUrl, provisionTenant, rpc } from "./helpers";

const DEAD = "https://smcp-upstream-health.invalid/mcp";
/** wrangler.jsonc's defaults, which this pool keeps. */
const INTERVAL_MS = 300_000;
const MAX_BACKOFF_MS = 3_600_000;

const tenantObject = (tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));
const path = (tenant: string, server = "remote") => `/tenants/${tenant}/servers/${server}/upstream`;

interface Health {
  state: string;
  reachable: boolean | null;
  latencyMs: number | null;
  tools: number | null;
  lastError: string | null;
  checkedAt: number | null;
  nextCheckAt: number;
  consecutiveFailures: number;
}

const healthOf = async (tenant: string, server = "remote"): Promise<Health> => (await adminOk("GET", path(tenant, server))).health;

/** The first probe, which the alarm armed by the PUT runs (here, or already on its own). */
async function firstProbe(tenant: string, server = "remote"): Promise<Health> {
  for (let i = 0; i < 200; i++) {
    await runDurableObjectAlarm(tenantObject(tenant));
    const health = await healthOf(tenant, server);
    if (health.state !== "unchecked") return health;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the first probe never ran");
}

const alarmOf = (tenant: string) => runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) => state.storage.getAlarm());

describe("upstream health", () => {
  it("upstream:health upstream:health-admin — PUT schedules a probe at once; the alarm runs it: unreachable, with the relay's wording, and the alarm is armed for the next", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-put", servers: [] });
    const put = await adminOk("PUT", path(tenant), { url: DEAD }, 201);
    expect(put.url).toBe(DEAD);
    const health = await firstProbe(tenant);
    expect(health).toMatchObject({ state: "unreachable", reachable: false, tools: null, consecutiveFailures: 1 });
    // A reserved name fails at once, without a DNS lookup (sandbox/egress.ts reservedHostProblem).
    expect(health.lastError).toBe("Upstream remote (smcp-upstream-health.invalid) could not be reached for initialize: smcp-upstream-health.invalid is a reserved name (RFC 2606) that no server answers for");
    expect(health.nextCheckAt - health.checkedAt!).toBe(INTERVAL_MS);
    expect(await alarmOf(tenant)).toBe(health.nextCheckAt);
    // The server's own view shows the same health.
    expect((await adminOk("GET", `/tenants/${tenant}/servers/remote`)).health).toEqual(health);
    // A scheduled probe writes no audit row (a stranger's failing upstream is not an audit flood).
    const { entries } = await adminOk("GET", `/tenants/${tenant}/audit`);
    expect(entries.map((e: { action: string }) => e.action)).not.toContain("upstream.probed");
  });

  it("upstream:health upstream:health-admin — each failure in a row doubles the wait up to the cap; POST .../probe runs one now and is audited", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-back", servers: [] });
    await adminOk("PUT", path(tenant), { url: DEAD }, 201);
    expect((await firstProbe(tenant)).consecutiveFailures).toBe(1);
    const waits: number[] = [];
    for (let n = 2; n <= 7; n++) {
      const { health } = await adminOk("POST", `${path(tenant)}/probe`);
      expect(health.consecutiveFailures).toBe(n);
      expect(health.state).toBe("unreachable");
      waits.push(health.nextCheckAt - health.checkedAt);
      // Arming only ever moves the alarm earlier (another concern may hold it) …
      expect(await alarmOf(tenant)).toBeLessThanOrEqual(health.nextCheckAt);
    }
    expect(waits).toEqual([2 * INTERVAL_MS, 4 * INTERVAL_MS, 8 * INTERVAL_MS, MAX_BACKOFF_MS, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
    // … so an early run finds nothing due, probes nothing and arms the probe's own time.
    const last = await healthOf(tenant);
    expect(await runDurableObjectAlarm(tenantObject(tenant))).toBe(true);
    expect(await healthOf(tenant)).toEqual(last);
    expect(await alarmOf(tenant)).toBe(last.nextCheckAt);
    // A tenant admin key may probe its own tenant's upstream; the row names the key.
    const adminKey = await adminOk<{ id: string; key: string }>("POST", `/tenants/${tenant}/admin-keys`, { label: "ops" }, 201);
    const byKey = await admin("POST", `${path(tenant)}/probe`, undefined, adminKey.key);
    expect(byKey.status).toBe(200);
    expect(((await byKey.json()) as { health: Health }).health.consecutiveFailures).toBe(8);
    const { entries } = await adminOk("GET", `/tenants/${tenant}/audit`);
    const probed = entries.filter((e: { action: string }) => e.action === "upstream.probed");
    expect(probed).toHaveLength(7);
    expect(probed[0]).toMatchObject({ actor: "admin", target: "remote", detail: { state: "unreachable", tools: null } });
    expect(probed[6].actor).toContain(adminKey.id);
    // A new configuration starts afresh: no failures, a probe due at once.
    const before = Date.now();
    await adminOk("PUT", path(tenant), { url: "https://smcp-other.invalid/mcp" });
    const fresh = await healthOf(tenant);
    expect(fresh).toMatchObject({ state: "unchecked", reachable: null, consecutiveFailures: 0, lastError: null, checkedAt: null });
    expect(fresh.nextCheckAt).toBeGreaterThanOrEqual(before);
  });

  it("upstream:health — a header naming a secret the server lacks fails the probe with what to do, without a fetch", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-sec", servers: [] });
    await adminOk("PUT", path(tenant), { url: DEAD, headers: { authorization: "Bearer ${secret:UPSTREAM_TOKEN}" } }, 201);
    const health = await firstProbe(tenant);
    expect(health.lastError).toBe(
      `Upstream remote cannot be called: its headers name \${secret:UPSTREAM_TOKEN}, which server remote has no secret for; a tenant admin sets it (pnpm smcp secrets set ${tenant} remote UPSTREAM_TOKEN)`,
    );
    expect(health.latencyMs).toBe(0);
  });

  it("upstream:health — the alarm serves both of its concerns: a failed-auth window armed earlier is closed, the upstream's next probe stays armed", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-mux", servers: ["notes"] });
    await adminOk("PUT", path(tenant), { url: DEAD }, 201);
    const health = await firstProbe(tenant);
    const res = await mcpFetch(mcpUrl(tenant, "notes"), { key: `smcp_sk_not-a-real-key-${"0".repeat(28)}`, body: rpc("tools/list") });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    // The window's end is earlier than the next probe, so it holds the alarm now.
    const windowEnd = await alarmOf(tenant);
    expect(windowEnd).toBeLessThan(health.nextCheckAt);
    expect(await runDurableObjectAlarm(tenantObject(tenant))).toBe(true);
    const { entries } = await adminOk("GET", `/tenants/${tenant}/audit`);
    expect(entries.at(-1)).toMatchObject({ action: "auth.failed", target: "invalid-key" });
    // The probe was not due: not run again, and its time is armed.
    expect(await healthOf(tenant)).toEqual(health);
    expect(await alarmOf(tenant)).toBe(health.nextCheckAt);
  });

  it("upstream:health — storage is one row per server with the error text capped; a result for a replaced configuration is dropped; the row goes with DELETE and purge", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-rows", servers: [] });
    await adminOk("PUT", path(tenant), { url: DEAD }, 201);
    await adminOk("PUT", path(tenant, "second"), { url: DEAD }, 201);
    await firstProbe(tenant);
    await firstProbe(tenant, "second");
    for (let i = 0; i < 3; i++) await adminOk("POST", `${path(tenant)}/probe`);
    await runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) => {
      const rows = state.storage.sql.exec<{ server: string }>("SELECT server FROM upstream_health ORDER BY server").toArray();
      expect(rows.map((r) => r.server)).toEqual(["remote", "second"]);
      const store = new UpstreamHealth(state.storage.sql);
      const configAt = state.storage.sql.exec<{ config_at: number }>("SELECT config_at FROM upstream_health WHERE server = 'remote'").one().config_at;
      const schedule = { intervalMs: INTERVAL_MS, maxBackoffMs: MAX_BACKOFF_MS, timeoutMs: 10_000 };
      const recorded = store.record("remote", configAt, { ok: false, latencyMs: 5, error: "x".repeat(10_000) }, Date.now(), schedule);
      expect(recorded!.lastError).toHaveLength(MAX_ERROR_CHARS);
      expect(store.record("remote", configAt - 1, { ok: true, latencyMs: 5, tools: 3, protocolVersion: "2025-11-25" }, Date.now(), schedule)).toBeNull();
      expect(store.get("remote")!.state).toBe("unreachable");
      expect(() => state.storage.sql.exec("UPDATE upstream_health SET error = ? WHERE server = 'remote'", "y".repeat(MAX_ERROR_CHARS + 1))).toThrow(/CHECK/);
    });
    await adminOk("DELETE", path(tenant));
    expect((await admin("POST", `${path(tenant)}/probe`)).status).toBe(404);
    await adminOk("DELETE", `/tenants/${tenant}/servers/second?purge=true`);
    await runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) => {
      expect(state.storage.sql.exec("SELECT server FROM upstream_health").toArray()).toEqual([]);
    });
  });

  it("upstream:health-admin — GET /admin/v1/health counts the tenant's unreachable upstream and names it", async () => {
    const { tenant } = await provisionTenant({ prefix: "uh-sum", servers: [] });
    await adminOk("PUT", path(tenant), { url: DEAD }, 201);
    await firstProbe(tenant);
    const health = await adminOk("GET", "/health");
    expect(health.upstreams.unreachable).toBeGreaterThanOrEqual(1);
    expect(health.upstreams.total).toBeGreaterThanOrEqual(health.upstreams.unreachable);
    expect(health.upstreams.unreachableServers).toContain(`${tenant}/remote`);
  });
});
