// The shortcuts past the SDK's era classification (mcp/session-lane.ts): whatever they
// route to the session lane or to the stateless lane, the SDK's own `isLegacyRequest` routes there too.
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { isPlainModernRequest, isPlainSessionRequest } from "../../workers/smcp/src/mcp/session-lane";

const CLAIM = "io.modelcontextprotocol/protocolVersion";
const envelope = { [CLAIM]: "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "c", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };

const bodies: unknown[] = [
  { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {} } },
  { jsonrpc: "2.0", id: "a", method: "tools/list" },
  { jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: { progressToken: 1 } } },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 3, result: {} },
  { jsonrpc: "2.0", id: 4, error: { code: -1, message: "no" } },
  { jsonrpc: "2.0", id: 5, method: "tools/list", params: { _meta: envelope } },
  { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: envelope } },
  { jsonrpc: "2.0", id: 6, method: "tools/list", params: { _meta: { [CLAIM]: 7 } } },
  [{ jsonrpc: "2.0", id: 7, method: "ping" }],
  // Malformed: the SDK's check refuses these (400), so the shortcut must leave them to it.
  { jsonrpc: "2.0", id: { nested: true }, method: "ping" },
  { jsonrpc: "2.0", id: 1.5, method: "ping" },
  { jsonrpc: "2.0", id: 1, method: "ping", extra: true },
  { jsonrpc: "2.0", id: 1, method: "ping", params: [] },
  { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: [] } },
  { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: { progressToken: {} } } },
  { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: { "io.modelcontextprotocol/related-task": { taskId: 1 } } } },
  { jsonrpc: "1.0", id: 1, method: "ping" },
  { jsonrpc: "2.0", id: 1, method: 42 },
  { jsonrpc: "2.0", id: null, method: "ping" },
];
const headerSets: Record<string, string>[] = [
  { "mcp-session-id": "s1", "mcp-protocol-version": "2025-11-25" },
  { "mcp-session-id": "s1", "mcp-protocol-version": " 2025-06-18 " },
  { "mcp-session-id": "s1" },
  { "mcp-session-id": "s1", "mcp-protocol-version": "2026-07-28" },
  { "mcp-protocol-version": "2025-11-25" },
];

const post = (headers: Record<string, string>, body: unknown) =>
  new Request("https://smcp.test/mcp/t/s", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("isPlainSessionRequest", () => {
  it("lanes:by-era — routes to the session lane only what the SDK's era check routes there", async () => {
    let shortcut = 0;
    for (const headers of headerSets) {
      for (const body of bodies) {
        if (!isPlainSessionRequest(post(headers, body), body)) continue;
        shortcut++;
        expect(await isLegacyRequest(post(headers, body), body), JSON.stringify({ headers, body })).toBe(true);
      }
    }
    // Requests and notifications of an established 2025 session (the common case) take the shortcut.
    expect(shortcut).toBe(12);
  });

  it("lanes:by-era — routes a malformed message as the SDK's check does, so its error stays the same", async () => {
    for (const body of bodies.slice(10)) {
      const headers = { "mcp-session-id": "s1", "mcp-protocol-version": "2025-11-25" };
      expect(isPlainSessionRequest(post(headers, body), body), JSON.stringify(body)).toBe(false);
      expect(await isLegacyRequest(post(headers, body), body), JSON.stringify(body)).toBe(false);
    }
  });

  it("lanes:by-era — leaves to the SDK a modern header, an envelope claim, a batch, a GET and a request without a session", () => {
    const call = bodies[0];
    expect(isPlainSessionRequest(post({ "mcp-session-id": "s1", "mcp-protocol-version": "2026-07-28" }, call), call)).toBe(false);
    expect(isPlainSessionRequest(post({ "mcp-session-id": "s1" }, bodies[6]), bodies[6])).toBe(false);
    expect(isPlainSessionRequest(post({ "mcp-session-id": "s1" }, bodies[9]), bodies[9])).toBe(false);
    expect(isPlainSessionRequest(post({ "mcp-protocol-version": "2025-11-25" }, call), call)).toBe(false);
    expect(isPlainSessionRequest(new Request("https://smcp.test/mcp/t/s", { headers: { "mcp-session-id": "s1" } }), undefined)).toBe(false);
  });
});

/** Bodies with the revision claim, well formed or not: the SDK answers each on its modern path but `initialize` and responses. */
const claimed: unknown[] = [
  { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {}, _meta: envelope } },
  { jsonrpc: "2.0", id: "x", method: "server/discover", params: { _meta: envelope } },
  { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: envelope } },
  { jsonrpc: "2.0", id: 6, method: "tools/list", params: { _meta: { [CLAIM]: 7 } } },
  { jsonrpc: "2.0", id: 6, method: "tools/list", params: { _meta: { [CLAIM]: "2025-11-25" } } },
  { jsonrpc: "2.0", id: 6, method: "tools/list", params: { _meta: { [CLAIM]: "2026-07-28" } } },
  { jsonrpc: "2.0", id: 1.5, method: "ping", params: { _meta: envelope } },
  { jsonrpc: "2.0", id: null, method: "ping", params: { _meta: envelope } },
  { jsonrpc: "2.0", id: 1, method: "ping", extra: true, params: { _meta: envelope } },
  // Left to the SDK: an initialize, a response, a batch, no claim.
  { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "c", version: "1" }, _meta: envelope } },
  { jsonrpc: "2.0", id: 1, method: "initialize", params: { _meta: { [CLAIM]: 1 } } },
  { jsonrpc: "2.0", id: 1, result: {}, method: "ping", params: { _meta: envelope } },
  [{ jsonrpc: "2.0", id: 7, method: "ping", params: { _meta: envelope } }],
  ...bodies,
];

describe("isPlainModernRequest", () => {
  it("lanes:by-era — routes to the stateless lane only what the SDK's era check routes there", async () => {
    let shortcut = 0;
    for (const headers of [...headerSets, {}, { "mcp-protocol-version": "2026-07-28" }, { "mcp-protocol-version": "2026-07-28", "mcp-method": "other" }]) {
      for (const body of claimed) {
        if (!isPlainModernRequest(post(headers, body), body)) continue;
        shortcut++;
        expect(await isLegacyRequest(post(headers, body), body), JSON.stringify({ headers, body })).toBe(false);
      }
    }
    // Every claimed request and notification but initialize, under each of the 8 header sets.
    expect(shortcut).toBe(9 * 8 + 3 * 8);
  });

  it("lanes:by-era — leaves a GET, an initialize and a response to the SDK", () => {
    const get = new Request("https://smcp.test/mcp/t/s", { headers: { "mcp-protocol-version": "2026-07-28" } });
    expect(isPlainModernRequest(get, undefined)).toBe(false);
    for (const body of claimed.slice(9, 13)) expect(isPlainModernRequest(post({}, body), body), JSON.stringify(body)).toBe(false);
  });
});
