/**
 * What a stranger can make SMCP write without a credential (issue 10, item 1): failed
 * authentications are aggregated into one audit row per reason per interval, bearers
 * that cannot be valid never reach a Durable Object, and the per-isolate failed-auth
 * limiter never stands in the way of a valid key.
 *
 * Rows are written when a window closes: by the tenant object's alarm, which these
 * tests run at once (`runDurableObjectAlarm`) instead of waiting for it.
 */
import { SELF, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { randomToken } from "@smcp/runtime";
import { describe, expect, it } from "vitest";
import { failedAuthTripped, TRIP_AFTER_FAILURES } from "../src/mcp/failed-auth-limiter";
import { EMPTY_STORAGE, ORIGIN, adminOk, busStub, statelessFetch, expectRpcError, mcpFetch, mcpUrl, newKey, provisionTenant, rpc, statelessTool, storageOf, tenantObject } from "./helpers";
import { randomAddress } from "./oauth-helpers";

/** 32 random bytes in base64url: the secret part of a well-formed key or token. */
const random43 = () => randomToken(32);
const randomKey = () => `smcp_sk_${random43()}`;
const randomAccessToken = (tenant: string) => `smcp_at_${tenant}.${random43()}`;

async function auditOf(tenant: string): Promise<any[]> {
  return (await adminOk("GET", `/tenants/${tenant}/audit?limit=500`)).entries;
}

/** Sends `requests` in parallel chunks, as a flood would; returns the statuses. */
async function flood(requests: (() => Promise<Response>)[], chunk = 50): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < requests.length; i += chunk) {
    const batch = await Promise.all(requests.slice(i, i + chunk).map((send) => send()));
    for (const res of batch) {
      statuses.push(res.status);
      await res.body?.cancel();
    }
  }
  return statuses;
}

describe("stranger-triggered writes", () => {
  it("platform:stranger-writes — 400 random bearers on random server names add one row per reason, with exact counts", async () => {
    const victim = await provisionTenant({ prefix: "victim", servers: ["notes"] });
    const before = await auditOf(victim.tenant);
    const bearers = Array.from({ length: 400 }, (_, n) => (n % 2 === 0 ? randomKey() : randomAccessToken(victim.tenant)));
    const statuses = await flood(bearers.map((bearer, n) => () => mcpFetch(mcpUrl(victim.tenant, `x${n}`), { key: bearer, body: rpc("ping") })));
    expect(statuses.every((s) => s === 401)).toBe(true);
    // Nothing is written while the window is open...
    expect(await auditOf(victim.tenant)).toHaveLength(before.length);
    // ...and closing it writes one row per reason.
    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(true);
    const added = (await auditOf(victim.tenant)).slice(before.length);
    expect(added.map((e) => [e.actor, e.action, e.target, e.detail.reason, e.detail.count])).toEqual(
      expect.arrayContaining([
        ["anonymous", "auth.failed", "invalid-key", "invalid-key", 200],
        ["anonymous", "auth.failed", "invalid-token", "invalid-token", 200],
      ]),
    );
    expect(added).toHaveLength(2);
    for (const e of added) expect(e.detail.until).toBeGreaterThanOrEqual(e.detail.since);
    // Neither the stranger-chosen server names nor any bearer text is in a row.
    const text = JSON.stringify(added);
    expect(text).not.toMatch(/x\d+/);
    for (const bearer of bearers.slice(0, 20)) expect(text).not.toContain(bearer.slice(8));
    expect(await adminOk("GET", `/tenants/${victim.tenant}/audit/verify`)).toMatchObject({ ok: true });
  });

  it("platform:stranger-writes — a late alarm loses no count: the next failure closes the window", async () => {
    const { vi } = await import("vitest");
    const victim = await provisionTenant({ prefix: "late", servers: ["notes"] });
    const before = (await auditOf(victim.tenant)).length;
    await flood(Array.from({ length: 5 }, () => () => mcpFetch(mcpUrl(victim.tenant, "notes"), { key: randomKey(), body: rpc("ping") })));
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 11_000);
      const res = await mcpFetch(mcpUrl(victim.tenant, "notes"), { key: randomKey(), body: rpc("ping") });
      expect(res.status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    const added = (await auditOf(victim.tenant)).slice(before);
    expect(added.map((e) => [e.target, e.detail.count])).toEqual([["invalid-key", 5]]);
    // The sixth failure opened the next window; its alarm writes it.
    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(true);
    expect((await auditOf(victim.tenant)).slice(before).map((e) => [e.target, e.detail.count])).toEqual([
      ["invalid-key", 5],
      ["invalid-key", 1],
    ]);
  });

  it("platform:stranger-writes — counts lost to an eviction leave an `unrecorded` row", async () => {
    const victim = await provisionTenant({ prefix: "evict", servers: ["notes"] });
    const before = (await auditOf(victim.tenant)).length;
    expect((await mcpFetch(mcpUrl(victim.tenant, "notes"), { key: randomKey(), body: rpc("ping") })).status).toBe(401);
    await evictDurableObject(tenantObject(victim.tenant));
    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(true);
    const added = (await auditOf(victim.tenant)).slice(before);
    expect(added.map((e) => [e.action, e.target, e.detail.count])).toEqual([["auth.failed", "unrecorded", null]]);
  });

  it("platform:stranger-writes — wrong-length keys, other tenants' tokens and junk get the normal 401 in the Worker", async () => {
    const victim = await provisionTenant({ prefix: "shape", servers: ["notes"] });
    const other = await provisionTenant({ prefix: "other", servers: ["notes"] });
    const url = mcpUrl(victim.tenant, "notes");
    // One valid request: this isolate now knows the tenant needs credentials.
    await statelessTool(url, victim.key, "list_notes");
    const before = await auditOf(victim.tenant);
    const keyChallenge = `Bearer resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp/${victim.tenant}/notes"`;
    const impossible: [string, RegExp][] = [
      [`smcp_sk_${random43().slice(1)}`, /^Bearer resource_metadata=/], // one character short
      [`smcp_sk_${random43()}A`, /^Bearer resource_metadata=/], // one too many
      [`smcp_sk_${random43().slice(1)}!`, /^Bearer resource_metadata=/], // outside the alphabet
      [randomAccessToken(other.tenant), /^Bearer error="invalid_token"/], // another tenant's token
      [`smcp_at_${victim.tenant}.short`, /^Bearer error="invalid_token"/],
      ["junk", /^Bearer resource_metadata=/], // neither shape: reported as a malformed key
    ];
    for (let round = 0; round < 20; round++) {
      for (const [bearer, challenge] of impossible) {
        const res = await mcpFetch(mcpUrl(victim.tenant, `x${round}`), { key: bearer, body: rpc("ping") });
        const header = res.headers.get("www-authenticate")!;
        expect(header, bearer).toMatch(challenge);
        if (challenge.source.startsWith("^Bearer resource")) expect(header.replace(/x\d+"$/, 'notes"')).toBe(keyChallenge);
        await expectRpcError(res, 401);
      }
    }
    // The tenant object saw none of the 120: it counts every check it makes, and has no window open.
    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(false);
    expect(await auditOf(victim.tenant)).toEqual(before);
    expect(await auditOf(other.tenant)).not.toContainEqual(expect.objectContaining({ action: "auth.failed" }));

    // An unknown tenant: impossible bearers leave it without storage (and once this isolate has heard it does not exist, it is not asked again).
    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    for (const bearer of ["junk", `smcp_sk_${random43().slice(2)}`, randomAccessToken("victim"), randomKey()]) {
      await expectRpcError(await mcpFetch(mcpUrl(ghost, `x${bearer.length}`), { key: bearer, body: rpc("ping") }), 401);
    }
    expect(await storageOf(tenantObject(ghost))).toEqual(EMPTY_STORAGE);
  });

  it("platform:stranger-writes — on auth \"none\" any bearer, well-formed or not, is ignored", async () => {
    const open = await provisionTenant({ prefix: "public", auth: "none", servers: ["notes"] });
    for (const bearer of ["junk", randomKey(), `smcp_sk_${random43().slice(3)}`, randomAccessToken("elsewhere"), randomAccessToken(open.tenant)]) {
      const result = await statelessTool(mcpUrl(open.tenant, "notes"), bearer, "list_notes");
      expect(result.isError ?? false).toBe(false);
    }
    expect(await runDurableObjectAlarm(tenantObject(open.tenant))).toBe(false);
  });

  it("platform:stranger-writes stateless:listen-cross-isolate — subscriptions/listen without a valid key is refused before the bus, and a listen with one writes nothing there", async () => {
    const t = await provisionTenant({ prefix: "listen", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    for (const bearer of [null, randomKey()]) {
      const refused = await statelessFetch(url, bearer, "subscriptions/listen", { notifications: { toolsListChanged: true } });
      expect(refused.status).toBe(401);
      await refused.body?.cancel();
    }
    const listening = await statelessFetch(url, t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    expect(listening.status).toBe(200);
    await listening.body?.cancel();
    expect(await storageOf(busStub(t.tenant, "everything"))).toEqual(EMPTY_STORAGE);
  });

  it("platform:stranger-writes — tripped, the limiter answers repeats of a failed key itself and lets a key it never saw through", async () => {
    const { vi } = await import("vitest");
    const victim = await provisionTenant({ prefix: "trip", servers: ["notes"] });
    const url = mcpUrl(victim.tenant, "notes");
    const tenant = tenantObject(victim.tenant);
    const stolen = randomKey();
    await flood([stolen, ...Array.from({ length: TRIP_AFTER_FAILURES + 4 }, randomKey)].map((key) => () => mcpFetch(url, { key, body: rpc("ping") })));
    expect(failedAuthTripped(victim.tenant)).toBe(true);

    // The same bad key on 30 server names: answered here, the tenant object is not asked.
    const repeats = await flood(Array.from({ length: 30 }, (_, n) => () => mcpFetch(mcpUrl(victim.tenant, `x${n}`), { key: stolen, body: rpc("ping") })));
    expect(repeats.every((s) => s === 401)).toBe(true);
    // A key created now, first seen while tripped, in the middle of more random bearers: it passes.
    const fresh = await newKey(victim.tenant);
    const [valid, ...rest] = await Promise.all([
      statelessTool(url, fresh.key, "list_notes"),
      ...Array.from({ length: 20 }, () => mcpFetch(url, { key: randomKey(), body: rpc("ping") }).then((r) => r.status)),
    ]);
    expect(valid.isError ?? false).toBe(false);
    expect(rest.every((s) => s === 401)).toBe(true);
    expect(failedAuthTripped(victim.tenant)).toBe(true);

    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    const counts = async () =>
      (await auditOf(victim.tenant)).filter((e) => e.action === "auth.failed").map((e) => [e.target, e.detail.count]);
    // Only the checks the tenant object made: the 30 repeats are not among them.
    expect(await counts()).toEqual([["invalid-key", TRIP_AFTER_FAILURES + 5 + 20]]);

    // The first failure after the window hands the limiter's count to the tenant object: no count is lost.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 11_000);
      expect((await mcpFetch(url, { key: randomKey(), body: rpc("ping") })).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    const deadline = Date.now() + 5_000;
    let rows = await counts();
    while (rows.length < 2 && Date.now() < deadline) {
      await runDurableObjectAlarm(tenant);
      rows = await counts();
    }
    expect(rows).toEqual([
      ["invalid-key", TRIP_AFTER_FAILURES + 5 + 20],
      ["invalid-key", 31],
    ]);
  });

  it("platform:stranger-writes — forged codes and refresh tokens at /token, wrong keys at /authorize: one row per reason", async () => {
    const victim = await provisionTenant({ prefix: "forge", servers: ["notes"] });
    const before = (await auditOf(victim.tenant)).length;
    const reg = await SELF.fetch(`${ORIGIN}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomAddress() },
      body: JSON.stringify({ client_name: "forger", redirect_uris: ["http://127.0.0.1:33418/cb"], token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"] }),
    });
    expect(reg.status).toBe(201);
    const client = await reg.json<{ client_id: string }>();
    const token = (fields: Record<string, string>) =>
      // Each from its own address: the per-address OAuth limit (low in tests) is not what this test is about.
      SELF.fetch(`${ORIGIN}/token`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": randomAddress() }, body: new URLSearchParams(fields).toString() });
    const codes = Array.from({ length: 12 }, () => () =>
      token({ grant_type: "authorization_code", client_id: client.client_id, code: `smcp_ac_${victim.tenant}.${random43()}`, code_verifier: random43(), redirect_uri: "http://127.0.0.1:33418/cb" }),
    );
    const refreshes = Array.from({ length: 8 }, () => () =>
      token({ grant_type: "refresh_token", client_id: client.client_id, refresh_token: `smcp_rt_${victim.tenant}.${random43()}` }),
    );
    expect((await flood([...codes, ...refreshes], 10)).every((s) => s === 400)).toBe(true);

    // The consent form's key check: wrong keys are counted like the MCP endpoint's.
    const challenge = random43();
    const form = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: "http://127.0.0.1:33418/cb",
      code_challenge: challenge,
      code_challenge_method: "S256",
      resource: mcpUrl(victim.tenant, "notes"),
      decision: "approve",
    });
    for (let i = 0; i < 3; i++) {
      form.set("api_key", randomKey());
      const res = await SELF.fetch(`${ORIGIN}/authorize`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": randomAddress() },
        body: form.toString(),
        redirect: "manual",
      });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }

    expect(await runDurableObjectAlarm(tenantObject(victim.tenant))).toBe(true);
    const added = (await auditOf(victim.tenant)).slice(before).filter((e) => e.action === "auth.failed");
    expect(added.map((e) => [e.target, e.detail.count]).sort()).toEqual([
      ["invalid-key", 3],
      ["unknown-code", 12],
      ["unknown-refresh-token", 8],
    ]);
  });
});
