/**
 * SPEC section 5: nothing a client sends produces a 500 or a stack trace; each bad
 * input gets its status and, where the body is JSON-RPC, its JSON-RPC error code.
 */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MAX_BODY_BYTES,
  ORIGIN,
  callTool,
  expectNoStackTrace,
  expectRpcError,
  initializeParams,
  mcpFetch,
  mcpUrl,
  messagesOf,
  openSession,
  provisionTenant,
  readAllEvents,
  responseMessage,
  rpc,
  send,
  statelessFetch,
  statelessMeta,
  type Session,
  type Tenant,
} from "./helpers";

let t: Tenant;
let url: string;
let session: Session;

beforeAll(async () => {
  t = await provisionTenant();
  url = mcpUrl(t.tenant, "notes");
  session = await openSession(url, t.key);
});

/** Raw bytes or text with the session's headers. */
const sendRaw = (body: BodyInit, headers: Record<string, string> = {}) =>
  SELF.fetch(url, {
    method: "POST",
    headers: {
      Accept: "application/json, text/event-stream",
      "Content-Type": "application/json",
      Authorization: `Bearer ${t.key}`,
      "Mcp-Session-Id": session.sessionId,
      "MCP-Protocol-Version": session.protocolVersion,
      ...headers,
    },
    body,
  });

describe("bad JSON-RPC", () => {
  it("input:parse-error — a body that is not JSON gets 400 / -32700", async () => {
    for (const body of ["{nope", "", "   ", '{"jsonrpc":"2.0",', "\u0000"]) {
      await expectRpcError(await sendRaw(body), 400, -32700);
    }
    await expectRpcError(await sendRaw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, -32700); // not UTF-8
    // Also before any session exists.
    await expectRpcError(await mcpFetch(url, { key: t.key, body: "{nope" }), 400, -32700);
  });

  it("input:invalid-request — JSON that is not JSON-RPC 2.0 gets 400 / -32600", async () => {
    const bodies: unknown[] = [
      { hello: "world" },
      { jsonrpc: "1.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 1 },
      { jsonrpc: "2.0", id: { nested: true }, method: "ping" },
      { jsonrpc: "2.0", id: 1, method: 42 },
      [],
      [1, 2],
      42,
      "ping",
      null,
    ];
    for (const body of bodies) await expectRpcError(await sendRaw(JSON.stringify(body)), 400, -32600);
  });

  it("input:method-not-found — an unknown method gets -32601 on both lanes", async () => {
    const res = await send(session, rpc("no/such/method", {}));
    expect(res.status).toBe(200);
    expect((await responseMessage(res)).error.code).toBe(-32601);

    const stateless = await statelessFetch(url, t.key, "no/such/method");
    expect(stateless.status).toBe(404);
    expect((await responseMessage(stateless)).error.code).toBe(-32601);
  });

  it("input:invalid-params — bad params get -32602: tools/call without a name, an unknown tool, initialize without clientInfo", async () => {
    for (const params of [{ arguments: {} }, { name: "no_such_tool", arguments: {} }, { name: 42 }]) {
      const res = await send(session, rpc("tools/call", params));
      expect(res.status).toBe(200);
      expect((await responseMessage(res)).error.code, JSON.stringify(params)).toBe(-32602);
    }
    const init = await mcpFetch(url, { key: t.key, body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {} }) });
    await expectRpcError(init, 400, -32602);
    expect(init.headers.get("mcp-session-id")).toBeNull();
  });

  it("input:invalid-params — arguments that fail a tool's schema are -32602, not a crash", async () => {
    const message = await responseMessage(await send(session, rpc("tools/call", { name: "add_note", arguments: { title: 42 } })));
    expect(message.error.code).toBe(-32602);
  });
});

describe("bad HTTP", () => {
  it("input:body-size — a body over SMCP_MAX_BODY_BYTES gets 413, declared or streamed", async () => {
    const big = JSON.stringify(rpc("tools/call", { name: "add_note", arguments: { title: "big", body: "x".repeat(MAX_BODY_BYTES) } }));
    await expectRpcError(await sendRaw(big), 413);

    // No Content-Length: the limit is enforced while reading.
    const encoded = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < encoded.length; i += 1024) controller.enqueue(encoded.slice(i, i + 1024));
        controller.close();
      },
    });
    await expectRpcError(await sendRaw(stream), 413);

    // Just under the limit is fine.
    const fits = await callTool(session, "add_note", { title: "fits", body: "x".repeat(MAX_BODY_BYTES - 512) });
    expect(fits.structuredContent.id).toEqual(expect.any(String));
  });

  it("input:content-type — a POST whose Content-Type is not application/json gets 415", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"]) {
      await expectRpcError(await sendRaw(JSON.stringify(rpc("ping")), { "Content-Type": contentType }), 415);
    }
    const withCharset = await sendRaw(JSON.stringify(rpc("ping")), { "Content-Type": "Application/JSON; charset=utf-8" });
    expect(withCharset.status).toBe(200);
    await withCharset.body?.cancel();
  });

  it("input:accept — an Accept without the needed media types gets 406", async () => {
    for (const accept of ["application/json", "text/event-stream", "text/html"]) {
      await expectRpcError(await send(session, rpc("ping"), { headers: { Accept: accept } }), 406);
    }
    await expectRpcError(await send(session, undefined, { method: "GET", headers: { Accept: "application/json" } }), 406);
    const init = await mcpFetch(url, { key: t.key, body: rpc("initialize", initializeParams("2025-11-25")), headers: { Accept: "text/html" } });
    await expectRpcError(init, 406);
    expect(init.headers.get("mcp-session-id")).toBeNull();
  });

  it("input:origin mcp:origin — an Origin that is present and not allowed gets 403, even before authentication", async () => {
    for (const origin of ["https://evil.example", "null", "http://localhost.evil.example", "https://app.example.com.evil", "file://", "not a url"]) {
      await expectRpcError(await send(session, rpc("ping"), { headers: { Origin: origin } }), 403);
      const error = await expectRpcError(await mcpFetch(url, { body: rpc("ping"), headers: { Origin: origin } }), 403);
      expect(error.message).toBe(
        `Origin ${origin} is not allowed: browsers may call this endpoint only from loopback origins or from one listed in SMCP_ALLOWED_ORIGINS (a platform setting)`,
      );
    }
  });

  it("input:origin — loopback origins and SMCP_ALLOWED_ORIGINS pass the DNS-rebinding guard", async () => {
    for (const origin of ["http://localhost:6274", "http://127.0.0.1:3000", "http://[::1]:8080", "https://localhost", "https://app.example.com"]) {
      const res = await send(session, rpc("ping"), { headers: { Origin: origin } });
      expect(res.status, origin).toBe(200);
      expect((await responseMessage(res)).result).toEqual({});
    }
  });

  it("input:protocol-version — an unsupported MCP-Protocol-Version gets 400", async () => {
    for (const version of ["1999-01-01", "2099-12-31", "latest"]) {
      const error = await expectRpcError(await send(session, rpc("ping"), { protocolVersion: version }), 400, -32022);
      // The answer lists every revision the URL serves, the stateless one included.
      expect(error.message, version).toBe(
        `Unsupported MCP-Protocol-Version ${version}: this URL serves 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05, 2024-10-07`,
      );
    }
    // Without a session, with the envelope of a revision the server does not speak.
    const res = await mcpFetch(url, {
      key: t.key,
      protocolVersion: "2099-12-31",
      headers: { "Mcp-Method": "tools/list" },
      body: rpc("tools/list", { _meta: { ...statelessMeta("2099-12-31") } }),
    });
    expect(res.status).toBe(400);
    expectNoStackTrace(await res.text());
  });

  it("session:batches — a JSON-RPC batch on a 2025-11-25 session gets 400 / -32600", async () => {
    await expectRpcError(await send(session, [rpc("ping"), rpc("tools/list")]), 400, -32600);
  });

  it("session:batches — a JSON-RPC batch on a 2025-03-26 session is answered, one response per request", async () => {
    const old = await openSession(url, t.key, "2025-03-26");
    const batch = [rpc("ping"), rpc("tools/list")];
    const res = await send(old, batch);
    expect(res.status).toBe(200);
    const messages = messagesOf(await readAllEvents(res));
    expect(messages.map((m) => m.id).sort()).toEqual(batch.map((m) => m.id).sort());
    expect(messages.every((m) => m.error === undefined)).toBe(true);
  });
});

describe("authentication", () => {
  const resourceMetadata = () => `Bearer resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp/${t.tenant}/notes"`;

  it("auth:401 — no Authorization gets 401 with WWW-Authenticate naming the RFC 9728 metadata", async () => {
    for (const init of [{ body: rpc("initialize", initializeParams("2025-11-25")) }, { sessionId: session.sessionId, body: rpc("ping") }]) {
      const res = await mcpFetch(url, init);
      expect(res.headers.get("www-authenticate")).toBe(resourceMetadata());
      await expectRpcError(res, 401);
    }
    const metadata = await SELF.fetch(resourceMetadata().match(/"(.+)"/)![1]!);
    expect(metadata.status).toBe(200);
    expect((await metadata.json<{ resource: string }>()).resource).toBe(url);
  });

  it("auth:401 — a wrong, malformed or non-Bearer key gets 401 with WWW-Authenticate", async () => {
    for (const authorization of [`Bearer smcp_sk_${"A".repeat(43)}`, "Bearer ", `Basic ${btoa("user:pass")}`, `Bearer ${t.key} extra`, t.key!]) {
      const res = await SELF.fetch(url, {
        method: "POST",
        headers: { Authorization: authorization, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: JSON.stringify(rpc("initialize", initializeParams("2025-11-25"))),
      });
      expect(res.headers.get("www-authenticate"), authorization).toBe(resourceMetadata());
      await expectRpcError(res, 401);
    }
  });

  it("auth:401 — an unknown tenant answers exactly like a bad key (no tenant enumeration)", async () => {
    const res = await mcpFetch(mcpUrl("no-such-tenant-xyz", "notes"), { key: t.key, body: rpc("ping") });
    const error = await expectRpcError(res, 401);
    // The same text as a well-formed key the tenant does not have (error-messages.test.ts).
    expect(error.message).toBe(
      "Invalid or revoked API key: tenant no-such-tenant-xyz has no live key with this value. A tenant API key is smcp_sk_ and 43 characters (A-Z a-z 0-9 - _), shown once when it is created: POST /admin/v1/tenants/no-such-tenant-xyz/keys or npx pnpm@10 smcp keys create no-such-tenant-xyz",
    );
  });
});

describe("never a 500", () => {
  it("input:no-500 — hostile or odd requests never get a 500 or a stack trace", async () => {
    const json = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Authorization: `Bearer ${t.key}` };
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const requests: [string, RequestInit, string?][] = [
      ["deeply nested JSON", { method: "POST", headers: json, body: deep }],
      ["deeply nested params", { method: "POST", headers: { ...json, "Mcp-Session-Id": session.sessionId }, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":${"{\"a\":".repeat(2000)}1${"}".repeat(2000)}}` }],
      ["initialize with params null", { method: "POST", headers: json, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: null }) }],
      ["initialize as a notification", { method: "POST", headers: json, body: JSON.stringify({ jsonrpc: "2.0", method: "initialize", params: initializeParams("2025-11-25") }) }],
      ["initialize in a batch", { method: "POST", headers: json, body: JSON.stringify([rpc("initialize", initializeParams("2025-03-26"))]) }],
      ["response message without session", { method: "POST", headers: json, body: JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} }) }],
      ["GET without session", { method: "GET", headers: { Accept: "text/event-stream", Authorization: `Bearer ${t.key}` } }],
      ["DELETE without session", { method: "DELETE", headers: { Authorization: `Bearer ${t.key}` } }],
      ["session id with odd bytes", { method: "POST", headers: { ...json, "Mcp-Session-Id": "%00%ff<script>" }, body: JSON.stringify(rpc("ping")) }],
      ["Last-Event-ID junk", { method: "GET", headers: { Accept: "text/event-stream", Authorization: `Bearer ${t.key}`, "Mcp-Session-Id": session.sessionId, "Last-Event-ID": "x".repeat(5000) } }],
      ["Last-Event-ID huge seq", { method: "GET", headers: { Accept: "text/event-stream", Authorization: `Bearer ${t.key}`, "Mcp-Session-Id": session.sessionId, "Last-Event-ID": "s.99999999999999999999" } }],
      ["huge Authorization", { method: "POST", headers: { ...json, Authorization: `Bearer ${"k".repeat(8000)}` }, body: JSON.stringify(rpc("ping")) }],
      ["stateless without envelope", { method: "POST", headers: { ...json, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" }, body: JSON.stringify(rpc("tools/list", {})) }],
      ["stateless with wrong Mcp-Method", { method: "POST", headers: { ...json, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call" }, body: JSON.stringify(rpc("tools/list", { _meta: statelessMeta() })) }],
      ["stateless with bad envelope", { method: "POST", headers: { ...json, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" }, body: JSON.stringify(rpc("tools/list", { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": "nope" } })) }],
      ["admin with junk JSON", { method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer test-admin-token" }, body: "{nope" }, `${ORIGIN}/admin/v1/tenants`],
      ["admin with wrong shape", { method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer test-admin-token" }, body: JSON.stringify({ id: 42, extra: true }) }, `${ORIGIN}/admin/v1/tenants`],
      ["admin events with bad query", { method: "GET", headers: { Authorization: "Bearer test-admin-token" } }, `${ORIGIN}/admin/v1/tenants/${"x"}/sessions/${"y".repeat(32)}/events?after=-1&limit=abc`],
    ];
    for (const [label, init, target] of requests) {
      const res = await SELF.fetch(target ?? url, init);
      const text = await res.text();
      expect(res.status, `${label}: ${text.slice(0, 200)}`).toBeLessThan(500);
      expectNoStackTrace(text);
    }
    // The session that saw all of this still works.
    expect((await callTool(session, "list_notes")).structuredContent.notes).toEqual(expect.any(Array));
  });

});
