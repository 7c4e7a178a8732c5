// The official SDK client against `wrangler dev`, on both protocol lanes.
import { SdkHttpError, type Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Platform, textOf } from "./platform";

const platform = new Platform();
let acme: { tenant: string; key: string };
let globex: { tenant: string; key: string };

beforeAll(async () => {
  await platform.start();
  acme = await platform.tenant("acme");
  globex = await platform.tenant("globex");
});
afterAll(() => platform.dispose());

describe.each(["session", "stateless"] as const)("%s lane", (lane) => {
  it("lanes:by-era stateless:requests session:create — connects, lists tools and calls them", async () => {
    const { client } = await platform.connect(acme.tenant, "notes", acme.key, { lane });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["add_note", "delete_note", "list_notes", "search_notes"]);
    const added = await client.callTool({ name: "add_note", arguments: { title: `from ${lane}`, body: `written on the ${lane} lane` } });
    expect(added.isError).toBeFalsy();
    const found = await client.callTool({ name: "search_notes", arguments: { query: `the ${lane} lane` } });
    expect(textOf(found)).toContain(`from ${lane}`);
    await client.close();
  });

  it("servers:notes isolation:tenants — keeps notes within the tenant", async () => {
    const { client } = await platform.connect(globex.tenant, "notes", globex.key, { lane });
    const listed = await client.callTool({ name: "list_notes", arguments: {} });
    expect(JSON.parse(textOf(listed))).toEqual({ notes: [] });
    await client.close();
  });

  it("servers:everything servers:module — serves the everything fixture", async () => {
    const { client } = await platform.connect(acme.tenant, "everything", acme.key, { lane });
    const result = await client.callTool({ name: "test_simple_text", arguments: {} });
    expect(textOf(result)).toBe("This is a simple text response for testing.");
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      "test_input_required_result_prompt",
      "test_prompt_with_arguments",
      "test_prompt_with_embedded_resource",
      "test_prompt_with_image",
      "test_simple_prompt",
    ]);
    await client.close();
  });
});

describe("session lane", () => {
  it("servers:notes — shares notes between two sessions of one tenant", async () => {
    const a = await platform.connect(acme.tenant, "notes", acme.key);
    const b = await platform.connect(acme.tenant, "notes", acme.key);
    expect(a.transport.sessionId).not.toEqual(b.transport.sessionId);
    await a.client.callTool({ name: "add_note", arguments: { title: "shared", body: "seen by the other session" } });
    const found = await b.client.callTool({ name: "search_notes", arguments: { query: "seen by the other" } });
    expect(textOf(found)).toContain("shared");
    await a.client.close();
    await b.client.close();
  });

  it("session:delete session:404 — ends the session on DELETE; the id then gets 404", async () => {
    const { client, transport } = await platform.connect(acme.tenant, "notes", acme.key);
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    const res = await fetch(platform.mcpUrl(acme.tenant, "notes"), {
      method: "POST",
      headers: {
        authorization: `Bearer ${acme.key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": sessionId,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(404);
    // The body a client shows: a JSON-RPC error (-32001) that says what to do.
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32001, message: expect.stringMatching(/^Session not found: .*send initialize without an Mcp-Session-Id header$/) } });
    // The standalone stream of the ended session: 404 too.
    const stream = await fetch(platform.mcpUrl(acme.tenant, "notes"), {
      headers: { authorization: `Bearer ${acme.key}`, accept: "text/event-stream", "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
    });
    await stream.body?.cancel();
    expect(stream.status).toBe(404);
  });

  it("session:404 platform:error-messages — an ended session tells the SDK client to initialize again; the client (2.4.0) does not do it by itself", async () => {
    const { client, transport } = await platform.connect(acme.tenant, "notes", acme.key);
    await platform.admin().call("DELETE", `/tenants/${acme.tenant}/sessions/${transport.sessionId}`);
    const expected = "Session not found: it expired, was ended, or never existed. Start a new session: send initialize without an Mcp-Session-Id header";
    await expect(client.listTools()).rejects.toThrow(expected);
    // It keeps the dead session id: the next call fails the same way. A new connect is the way back.
    await expect(client.listTools()).rejects.toThrow(expected);
    await client.close();
    const again = await platform.connect(acme.tenant, "notes", acme.key);
    expect((await again.client.listTools()).tools.map((t) => t.name)).toContain("add_note");
    await again.client.close();
  });

  it("session:404 — a client that follows the spec (a 404 to a request with its session id: a new session, a fresh initialize) carries on with the SDK client", async () => {
    let conn = await platform.connect(acme.tenant, "notes", acme.key);
    const first = conn.transport.sessionId!;
    /** MCP 2025-11-25's rule around the SDK client, which (2.4.0) does not apply it itself: a new Client and transport, then the call again. */
    const call = async <T>(op: (client: Client) => Promise<T>): Promise<T> => {
      try {
        return await op(conn.client);
      } catch (err) {
        if (!(err instanceof SdkHttpError) || err.status !== 404) throw err;
        await conn.client.close();
        conn = await platform.connect(acme.tenant, "notes", acme.key);
        return op(conn.client);
      }
    };
    const title = `kept across sessions ${Date.now()}`;
    await call((client) => client.callTool({ name: "add_note", arguments: { title, body: "written before the session ended" } }));
    await platform.admin().call("DELETE", `/tenants/${acme.tenant}/sessions/${first}`);
    const found = await call((client) => client.callTool({ name: "search_notes", arguments: { query: "written before the session ended" } }));
    expect(textOf(found)).toContain(title);
    expect(conn.transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(conn.transport.sessionId).not.toBe(first);
    await conn.client.close();
  });
});
