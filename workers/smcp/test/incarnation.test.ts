/**
 * A tenant's incarnation is part of every name derived from it (issue 10, item 13):
 * a tenant deleted and created again under the same id never meets the old one's
 * sessions, sandbox isolates or cached decisions.
 *
 * The caches in question live in the Worker's isolate, which these tests share with
 * the Worker (one workerd, `isolate: false`), so a decision cached by a request here
 * is really in the cache the next request reads. The clock is frozen (`Date` only)
 * so that a decision cached before the delete is still fresh after the re-create,
 * however slow the machine: the window these tests probe is the auth cache's few
 * seconds, taken at its worst. Tenants created before incarnations existed are made
 * by removing the field from the stored config, which is exactly what they hold.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LEGACY_INCARNATION } from "@smcp/runtime";
import {
  ADMIN_TOKEN,
  EMPTY_STORAGE,
  ORIGIN,
  adminOk,
  callTool,
  initializeParams,
  listSessions,
  mcpFetch,
  mcpUrl,
  newKey,
  openSession,
  provisionTenant,
  rememberIncarnation,
  responseMessage,
  restartObject,
  rpc,
  send,
  sessionStorageExists,
  sessionStub,
  statelessFetch,
  statelessTool,
  storageOf,
  tenantConfig,
  tenantObject,
  textOf,
} from "./helpers";

const freezeClock = () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now());
};

afterEach(() => {
  vi.useRealTimers();
});

/** Deletes a tenant and creates it again under the same id with one key; returns the key. */
async function recreate(tenant: string, auth: "key" | "none" = "key", servers = ["notes"]): Promise<{ key: string; incarnation: string }> {
  await adminOk("DELETE", `/tenants/${tenant}`);
  await adminOk("POST", "/tenants", { id: tenant, auth }, 201);
  for (const server of servers) await adminOk("PUT", `/tenants/${tenant}/servers/${server}`, undefined, 201);
  const { key } = await newKey(tenant);
  return { key, incarnation: await rememberIncarnation(tenant) };
}

describe("a re-created tenant", () => {
  it("platform:incarnation — a decision cached for the deleted public tenant admits nothing in its key-only successor", async () => {
    freezeClock();
    const { tenant } = await provisionTenant({ auth: "none", servers: ["notes"] });
    // No key needed while public: both lanes' decisions for "no key" are now cached in this isolate.
    await statelessTool(mcpUrl(tenant, "notes"), null, "list_notes");
    const old = await openSession(mcpUrl(tenant, "notes"), null);
    const oldIncarnation = (await tenantConfig(tenant))!.incarnation;

    const { key, incarnation } = await recreate(tenant, "key");
    expect(incarnation).not.toBe(oldIncarnation);

    // A session without a key: refused, and nothing is indexed in the new tenant.
    const init = await mcpFetch(mcpUrl(tenant, "notes"), { key: null, body: rpc("initialize", initializeParams("2025-11-25")) });
    expect(init.status, await init.clone().text()).not.toBe(200);
    await init.body?.cancel();
    expect(await listSessions(tenant)).toEqual([]);

    // A stateless tool call without a key writes nothing into the new tenant.
    const write = await statelessFetch(mcpUrl(tenant, "notes"), null, "tools/call", { name: "add_note", arguments: { title: "from the old tenant", body: "" } });
    if (write.status === 200) {
      const message = await responseMessage(write);
      expect(message.error ?? message.result?.isError, JSON.stringify(message)).toBeTruthy();
    } else {
      await write.body?.cancel();
    }
    expect(textOf(await statelessTool(mcpUrl(tenant, "notes"), key, "list_notes"))).not.toContain("from the old tenant");

    // The old session id without a key: refused (the stale decision reaches only the old incarnation's ended session).
    const withoutKey = await send(old, rpc("ping"));
    expect([401, 404]).toContain(withoutKey.status);
    await withoutKey.body?.cancel();
    // With the new tenant's key: no such session.
    const withNewKey = await send({ ...old, key }, rpc("ping"));
    expect(withNewKey.status).toBe(404);
    await withNewKey.body?.cancel();
    // The new incarnation's object for that id holds nothing.
    expect(await storageOf(sessionStub(tenant, "notes", old.sessionId, incarnation))).toEqual(EMPTY_STORAGE);
  });

  it("platform:incarnation — the old session id, with its old key or a new one, gets 404 and leaves nothing in the new tenant", async () => {
    freezeClock();
    const { tenant, key: oldKey } = await provisionTenant({ servers: ["notes"] });
    const old = await openSession(mcpUrl(tenant, "notes"), oldKey);
    await callTool(old, "add_note", { title: "old data", body: "" });
    const oldIncarnation = (await tenantConfig(tenant))!.incarnation;

    const { key, incarnation } = await recreate(tenant);
    expect(incarnation).not.toBe(oldIncarnation);
    expect(await storageOf(sessionStub(tenant, "notes", old.sessionId, oldIncarnation))).toEqual(EMPTY_STORAGE);

    // The old key's decision is still cached here (the clock is frozen): it names the old incarnation, whose session has ended.
    const res = await send(old, rpc("ping"));
    expect(res.status).toBe(404);
    await res.body?.cancel();
    const withNewKey = await send({ ...old, key }, rpc("ping"));
    expect(withNewKey.status).toBe(404);
    await withNewKey.body?.cancel();

    expect(await listSessions(tenant)).toEqual([]);
    expect(await storageOf(sessionStub(tenant, "notes", old.sessionId, incarnation))).toEqual(EMPTY_STORAGE);
    const fresh = await openSession(mcpUrl(tenant, "notes"), key);
    expect(textOf(await callTool(fresh, "list_notes"))).not.toContain("old data");
  });

  it("platform:incarnation — the same module deployed again after a re-create runs in a fresh isolate, not the old tenant's", async () => {
    const counter = `
let calls = 0;
export default { tools: [{ name: "count", description: "counts the calls this isolate has served", inputSchema: { type: "object" }, async handler() { calls++; return String(calls); } }] };
`;
    const deploy = async (tenant: string) => {
      const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/counter/deployments`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
        body: counter,
      });
      expect(res.status, await res.text()).toBe(201);
    };
    const { tenant, key: oldKey } = await provisionTenant({ servers: [] });
    await deploy(tenant);
    const url = mcpUrl(tenant, "counter");
    expect(textOf(await statelessTool(url, oldKey!, "count"))).toBe("1");
    // Module state lives as long as the isolate: the same isolate answers again.
    expect(textOf(await statelessTool(url, oldKey!, "count"))).toBe("2");

    const { key } = await recreate(tenant, "key", []);
    await deploy(tenant);
    expect(textOf(await statelessTool(url, key, "count"))).toBe("1");
  });
});

describe("a tenant created before incarnations existed", () => {
  it("platform:incarnation — keeps its session object names, so a session opened before the upgrade keeps working; deleting it ends that session", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    // The config as the previous version wrote it: no incarnation.
    await runInDurableObject(tenantObject(tenant), (_instance, state) => {
      const { incarnation: _, ...legacy } = state.storage.kv.get<Record<string, unknown>>("config")!;
      state.storage.kv.put("config", legacy);
    });
    // As the upgrade that finds such a config does: the object starts again on the stored data (it keeps the config it read in memory).
    await restartObject(() => tenantObject(tenant));
    expect((await tenantConfig(tenant))!.incarnation).toBe(LEGACY_INCARNATION);
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    // Its object has the name the previous version gave it, and its stored principal has no incarnation either.
    const legacyStub = env.SESSION.get(env.SESSION.idFromName(`session:${tenant}/notes/${session.sessionId}`));
    await runInDurableObject(legacyStub, (_instance, state) => {
      const { incarnation: _, ...meta } = state.storage.kv.get<Record<string, unknown>>("meta")!;
      state.storage.kv.put("meta", meta);
    });
    expect(await sessionStorageExists(legacyStub.id)).toBe(true);
    await callTool(session, "add_note", { title: "before the upgrade", body: "" });
    expect(textOf(await callTool(session, "list_notes"))).toContain("before the upgrade");

    expect(await adminOk("DELETE", `/tenants/${tenant}`)).toEqual({ deleted: tenant, sessionsEnded: 1 });
    expect(await storageOf(legacyStub)).toEqual(EMPTY_STORAGE);
    // Created again, it gets an incarnation of its own: the legacy names are never reached again.
    await adminOk("POST", "/tenants", { id: tenant }, 201);
    expect(await rememberIncarnation(tenant)).not.toBe(LEGACY_INCARNATION);
  });
});
