/**
 * Per-tool policy (policy/tool-policy.ts, policy/govern.ts, admin/policy.ts): the admin
 * API with its checks and audit, and enforcement against a deployed module and the
 * built-in servers on both lanes: the governed `tools/list`, hidden and old names unknown, new names reaching
 * the real tool, `tools.listChanged` advertised, and a change announced to a live
 * session and to a listen stream. Upstream and deployed SDK servers under a policy, with
 * the SDK client, are test/e2e/policy.test.ts.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  ORIGIN,
  SseReader,
  admin,
  adminOk,
  STATELESS_REVISION,
  mcpFetch,
  mcpUrl,
  openSession,
  openStream,
  provisionTenant,
  request,
  responseMessage,
  rpc,
  sessionStub,
  statelessMeta,
  statelessFetch,
  textOf,
  restartObject,
} from "./helpers";

const MODULE = `export default { tools: [
  { name: "hi", inputSchema: { type: "object" }, handler: () => "hi there" },
  { name: "bye", inputSchema: { type: "object" }, handler: () => "bye" },
  { name: "secret", inputSchema: { type: "object" }, handler: () => "the secret" },
] };`;

const path = (tenant: string, server = "notes") => `/tenants/${tenant}/servers/${server}/policy`;

/** Hides delete_note, renames search_notes to find, overrides add_note's description. */
const POLICY = { deny: ["delete_note"], rename: { search_notes: "find" }, descriptions: { add_note: "Write a note down." } };

async function refused(tenant: string, body: unknown, server = "notes"): Promise<{ status: number; code: string; message: string }> {
  const res = await admin("PUT", path(tenant, server), body);
  const json = (await res.json()) as { error?: { code?: string; message?: string } };
  return { status: res.status, code: json.error?.code ?? "", message: json.error?.message ?? "" };
}

/** The next JSON-RPC message on a stream (keepalive comments and priming events skipped). */
async function nextMessage(reader: SseReader): Promise<any> {
  for (;;) {
    const event = await reader.next();
    if (!event) throw new Error("the stream ended");
    if (event.data !== "") return JSON.parse(event.data);
  }
}

const names = (list: { tools: { name: string }[] }) => list.tools.map((t) => t.name).sort();

describe("PUT /admin/v1/tenants/{t}/servers/{s}/policy", () => {
  it("policy:admin — a policy is stored as given, replaced, shown, deleted, and each change audited", async () => {
    const t = await provisionTenant({ prefix: "pol", servers: ["notes"] });
    const put = await adminOk("PUT", path(t.tenant), POLICY, 201);
    expect(put).toMatchObject({ server: "notes", allow: null, deny: ["delete_note"], rename: { search_notes: "find" }, descriptions: { add_note: "Write a note down." } });
    expect(await adminOk("PUT", path(t.tenant), { allow: ["list_notes"] })).toMatchObject({ allow: ["list_notes"], deny: [], rename: {} });
    expect(await adminOk("GET", path(t.tenant))).toMatchObject({ allow: ["list_notes"] });
    expect(await adminOk("DELETE", path(t.tenant))).toEqual({ server: "notes", deleted: true });
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
    expect((await admin("DELETE", path(t.tenant))).status).toBe(404);
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    const rows = (audit.entries as { action: string; target: string; detail: Record<string, unknown> }[]).filter((e) => e.target === "notes" && e.action.startsWith("policy."));
    expect(rows.map((e) => e.action)).toEqual(expect.arrayContaining(["policy.set", "policy.set", "policy.deleted"]));
    expect(rows.length).toBe(3);
    // Descriptions are named, not copied, into the audit.
    expect(JSON.stringify(audit)).not.toContain("Write a note down.");
  });

  it("policy:admin — a purged server's policy goes with it; a server enabled again starts without one", async () => {
    const t = await provisionTenant({ prefix: "pol-p", servers: ["notes"] });
    await adminOk("PUT", path(t.tenant), POLICY, 201);
    await adminOk("DELETE", `/tenants/${t.tenant}/servers/notes?purge=true`);
    expect((await admin("PUT", path(t.tenant), POLICY)).status).toBe(404);
    await adminOk("PUT", `/tenants/${t.tenant}/servers/notes`, undefined, 201);
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
  });

  it("policy:admin — bad names, bounds, contradictions and rename collisions are refused with a 400 that names them; an unknown server or tenant is 404", async () => {
    const t = await provisionTenant({ prefix: "pol-bad", servers: ["notes"] });
    const cases: [unknown, RegExp][] = [
      [{ deny: ["has space"] }, /deny: "has space" is not a tool name/],
      [{ allow: ["x".repeat(129)] }, /not a tool name/],
      [{ deny: ["a", "a"] }, /a is given twice/],
      [{ allow: Array.from({ length: 201 }, (_, i) => `t${i}`) }, /at most 200/],
      [{ allow: ["a"], deny: ["a"] }, /both allowed and denied/],
      [{ rename: { a: "x", b: "x" } }, /a and b are both renamed to x/],
      [{ allow: ["a", "b"], rename: { a: "b" } }, /renamed to b, which is the name of another tool this policy allows/],
      [{ deny: ["a"], rename: { a: "b" } }, /a is hidden by this policy/],
      [{ allow: ["b"], rename: { a: "c" } }, /a is hidden by this policy/],
      [{ rename: { a: "a" } }, /renamed to itself/],
      [{ rename: { a: "not/ok" } }, /is not a tool name/],
      [{ deny: ["a"], descriptions: { a: "x" } }, /descriptions: a is hidden/],
      [{ descriptions: { a: "x".repeat(2_049) } }, /longer than 2048 characters/],
      [{ deny: "a" }, /deny/],
      [{ hide: ["a"] }, /hide|unrecognized/i],
    ];
    for (const [body, reason] of cases) {
      const r = await refused(t.tenant, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.message, JSON.stringify(body).slice(0, 80)).toMatch(reason);
      expect(["invalid_policy", "invalid_body"]).toContain(r.code);
    }
    // A swap is unambiguous: both tools keep a name of their own.
    await adminOk("PUT", path(t.tenant), { rename: { a: "b", b: "a" } }, 201);
    await adminOk("DELETE", path(t.tenant));
    expect((await admin("GET", path(t.tenant))).status).toBe(404);
    expect((await refused(t.tenant, { deny: ["a"] }, "everything")).status).toBe(404);
    expect((await admin("PUT", path("no-such-tenant-pol"), { deny: ["a"] })).status).toBe(404);
  });
});

describe("enforcement on a deployed module (the sandbox)", () => {
  it("policy:tools policy:view policy:calls — a module's tools hidden and renamed on both lanes; its own unknown-tool answer for the hidden and old names", async () => {
    const t = await provisionTenant({ prefix: "pol-m", servers: [] });
    const deployed = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/mod/deployments`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
      body: MODULE,
    });
    expect(deployed.status, await deployed.text()).toBe(201);
    await adminOk("PUT", path(t.tenant, "mod"), { deny: ["secret"], rename: { hi: "hello" } }, 201);
    const url = mcpUrl(t.tenant, "mod");

    const session = await openSession(url, t.key);
    expect(names((await request(session, "tools/list")).result)).toEqual(["bye", "hello"]);
    expect(textOf((await request(session, "tools/call", { name: "hello", arguments: {} })).result)).toBe("hi there");
    const unknown = (await request(session, "tools/call", { name: "no_such_tool", arguments: {} })).error;
    for (const hidden of ["hi", "secret"]) {
      expect((await request(session, "tools/call", { name: hidden, arguments: {} })).error).toEqual({ ...unknown, message: unknown.message.replace("no_such_tool", hidden) });
    }

    expect(names((await responseMessage(await statelessFetch(url, t.key, "tools/list"))).result)).toEqual(["bye", "hello"]);
    expect(textOf((await responseMessage(await statelessFetch(url, t.key, "tools/call", { name: "hello", arguments: {} }))).result)).toBe("hi there");
    const statelessUnknown = (await responseMessage(await statelessFetch(url, t.key, "tools/call", { name: "no_such_tool", arguments: {} }))).error;
    const statelessHidden = (await responseMessage(await statelessFetch(url, t.key, "tools/call", { name: "secret", arguments: {} }))).error;
    expect(statelessHidden).toEqual({ ...statelessUnknown, message: statelessUnknown.message.replace("no_such_tool", "secret") });
  });
});

describe("enforcement on the built-in notes server", () => {
  it("policy:view policy:calls — session lane: the governed tools/list, listChanged advertised, hidden and old names unknown like an unknown tool, the new name reaching the real tool", async () => {
    const t = await provisionTenant({ prefix: "pol-s", servers: ["notes"] });
    await adminOk("PUT", path(t.tenant), POLICY, 201);
    const session = await openSession(mcpUrl(t.tenant, "notes"), t.key);
    const init = JSON.parse(session.initEvents.filter((e) => e.data !== "").at(-1)!.data);
    expect(init.result.capabilities.tools.listChanged).toBe(true);

    const list = (await request(session, "tools/list")).result;
    expect(names(list)).toEqual(["add_note", "find", "list_notes"]);
    expect(list.tools.find((x: { name: string }) => x.name === "add_note").description).toBe("Write a note down.");
    expect(list.tools.find((x: { name: string }) => x.name === "find").description).toMatch(/Find notes/);

    const unknown = (await request(session, "tools/call", { name: "no_such_tool", arguments: {} })).error;
    expect(unknown.code).toBe(-32602);
    for (const hidden of ["delete_note", "search_notes"]) {
      const error = (await request(session, "tools/call", { name: hidden, arguments: { id: "x", query: "x" } })).error;
      expect(error).toEqual({ code: unknown.code, message: unknown.message.replace("no_such_tool", hidden) });
    }

    const added = (await request(session, "tools/call", { name: "add_note", arguments: { title: "Groceries", body: "milk" } })).result;
    // The denied tool never ran: the note is still there.
    expect((await request(session, "tools/call", { name: "delete_note", arguments: { id: added.structuredContent.id } })).error.code).toBe(-32602);
    expect(textOf((await request(session, "tools/call", { name: "list_notes", arguments: {} })).result)).toContain(added.structuredContent.id);
    const found = (await request(session, "tools/call", { name: "find", arguments: { query: "groc" } })).result;
    expect(textOf(found)).toContain("Groceries");
    // An error about the renamed tool names it as the client called it.
    const bad = (await request(session, "tools/call", { name: "find", arguments: {} })).error;
    expect(bad.code).toBe(-32602);
    expect(bad.message).toContain("tool find");
    expect(bad.message).not.toContain("search_notes");
  });

  it("policy:view policy:calls — stateless lane: the governed tools/list, listChanged in server/discover, hidden and old names unknown, the new name reaching the real tool", async () => {
    const t = await provisionTenant({ prefix: "pol-l", servers: ["notes"] });
    await adminOk("PUT", path(t.tenant), POLICY, 201);
    const url = mcpUrl(t.tenant, "notes");
    const discover = await responseMessage(await statelessFetch(url, t.key, "server/discover"));
    expect(discover.result.capabilities.tools.listChanged).toBe(true);

    const list = (await responseMessage(await statelessFetch(url, t.key, "tools/list"))).result;
    expect(names(list)).toEqual(["add_note", "find", "list_notes"]);
    expect(list.tools.find((x: { name: string }) => x.name === "add_note").description).toBe("Write a note down.");

    const call = async (name: string, args: Record<string, unknown>) => {
      const res = await statelessFetch(url, t.key, "tools/call", { name, arguments: args });
      return { status: res.status, message: await responseMessage(res) };
    };
    const unknown = await call("no_such_tool", {});
    expect(unknown.message.error.code).toBe(-32602);
    for (const hidden of ["delete_note", "search_notes"]) {
      const r = await call(hidden, { id: "x", query: "x" });
      expect(r.status).toBe(unknown.status);
      expect(r.message.error).toEqual({ ...unknown.message.error, message: unknown.message.error.message.replace("no_such_tool", hidden) });
    }
    await call("add_note", { title: "Stateless groceries", body: "eggs" });
    const found = await call("find", { query: "stateless" });
    expect(found.message.error).toBeUndefined();
    expect(textOf(found.message.result)).toContain("Stateless groceries");
  });

  it("policy:calls — stateless lane: the SDK's header checks (SEP-2243 Mcp-Param-*) apply to a renamed tool under its new name, and an old name gets the unknown-tool answer, not a header error", async () => {
    const t = await provisionTenant({ prefix: "pol-h", servers: ["everything"] });
    await adminOk("PUT", path(t.tenant, "everything"), { rename: { test_x_mcp_header: "hdr" } }, 201);
    const url = mcpUrl(t.tenant, "everything");
    const call = async (name: string, headers: Record<string, string> = {}) => {
      const res = await mcpFetch(url, {
        key: t.key,
        headers: { "MCP-Protocol-Version": STATELESS_REVISION, "Mcp-Method": "tools/call", "Mcp-Name": name, ...headers },
        body: rpc("tools/call", { name, arguments: { region: "eu" }, _meta: statelessMeta() }),
      });
      return { status: res.status, message: await responseMessage(res) };
    };
    const withHeader = await call("hdr", { "Mcp-Param-Region": "eu" });
    expect(textOf(withHeader.message.result)).toBe("region=eu");
    const without = await call("hdr");
    expect(without.message.error, JSON.stringify(without.message)).toBeDefined();
    const unknown = await call("no_such_tool");
    const old = await call("test_x_mcp_header");
    expect(old.status).toBe(unknown.status);
    expect(old.message.error).toEqual({ ...unknown.message.error, message: unknown.message.error.message.replace("no_such_tool", "test_x_mcp_header") });
  });

  it("policy:announce policy:view — a policy set, changed or deleted reaches a live session as tools/list_changed, and its next tools/list is governed by it", async () => {
    const t = await provisionTenant({ prefix: "pol-n", servers: ["notes"] });
    const session = await openSession(mcpUrl(t.tenant, "notes"), t.key);
    expect(names((await request(session, "tools/list")).result)).toEqual(["add_note", "delete_note", "list_notes", "search_notes"]);
    const stream = new SseReader(await openStream(session));

    await adminOk("PUT", path(t.tenant), { allow: ["list_notes"] }, 201);
    expect(await nextMessage(stream)).toMatchObject({ method: "notifications/tools/list_changed" });
    expect(names((await request(session, "tools/list")).result)).toEqual(["list_notes"]);

    await adminOk("PUT", path(t.tenant), { allow: ["list_notes", "add_note"], rename: { add_note: "note" } });
    expect(await nextMessage(stream)).toMatchObject({ method: "notifications/tools/list_changed" });
    expect(names((await request(session, "tools/list")).result)).toEqual(["list_notes", "note"]);

    await adminOk("DELETE", path(t.tenant));
    expect(await nextMessage(stream)).toMatchObject({ method: "notifications/tools/list_changed" });
    expect(names((await request(session, "tools/list")).result)).toEqual(["add_note", "delete_note", "list_notes", "search_notes"]);
    await stream.cancel();
  });

  it("policy:announce — a session whose object restarted while the policy changed applies the new one on its next message and announces it then", async () => {
    const t = await provisionTenant({ prefix: "pol-r", servers: ["notes"] });
    const session = await openSession(mcpUrl(t.tenant, "notes"), t.key);
    expect(names((await request(session, "tools/list")).result)).toContain("delete_note");
    await restartObject(() => sessionStub(t.tenant, "notes", session.sessionId));
    await adminOk("PUT", path(t.tenant), { deny: ["delete_note"] }, 201);
    expect(names((await request(session, "tools/list")).result)).toEqual(["add_note", "list_notes", "search_notes"]);
    const { events } = await adminOk("GET", `/tenants/${t.tenant}/sessions/${session.sessionId}/events?after=0&limit=100`);
    const announced = (events as { message: { method?: string } }[]).filter((e) => e.message.method === "notifications/tools/list_changed");
    expect(announced.length).toBe(1);
  });

  it("policy:announce — a policy change reaches a subscriptions/listen stream of the server as tools/list_changed", async () => {
    const t = await provisionTenant({ prefix: "pol-b", servers: ["notes"] });
    const res = await statelessFetch(mcpUrl(t.tenant, "notes"), t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    expect(res.status).toBe(200);
    const stream = new SseReader(res);
    expect((await nextMessage(stream)).method).toBe("notifications/subscriptions/acknowledged");
    await adminOk("PUT", path(t.tenant), { deny: ["delete_note"] }, 201);
    expect(await nextMessage(stream)).toMatchObject({ method: "notifications/tools/list_changed" });
    await stream.cancel();
  });
});
