/**
 * Fuzz: a few thousand random, mostly malformed requests against one tenant's
 * endpoint, with a second tenant's real session id, key and note mixed in. Every
 * answer must be a clear refusal or a normal answer — never a 500 — and no answer may
 * carry the other tenant's data. Seeded, so a failure names the request that broke it.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, callTool, mcpUrl, openSession, provisionTenant } from "./helpers";

const REQUESTS = 3000;

/** mulberry32: a small seeded PRNG, so every run sends the same requests. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("fuzz", () => {
  it(`input:no-500 isolation:tenants — ${REQUESTS} random malformed requests: no 500, no other tenant's data`, async () => {
    const victim = await provisionTenant({ prefix: "victim", servers: ["notes"] });
    const secret = `SECRET-${crypto.randomUUID()}`;
    const victimSession = await openSession(mcpUrl(victim.tenant, "notes"), victim.key);
    await callTool(victimSession, "add_note", { title: secret, body: secret });

    const attacker = await provisionTenant({ prefix: "attacker", servers: ["notes", "everything"] });
    const attackerSession = await openSession(mcpUrl(attacker.tenant, "notes"), attacker.key);

    const random = prng(20261125);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join("");
    /** Printable ASCII noise, for headers (which a real client can only send as bytes). */
    const noise = (n: number) => Array.from({ length: n }, () => String.fromCharCode(0x21 + Math.floor(random() * 94))).join("");

    const paths = [
      `/mcp/${attacker.tenant}/notes`,
      `/mcp/${attacker.tenant}/everything`,
      `/mcp/${victim.tenant}/notes`,
      `/mcp/${attacker.tenant}/nope`,
      `/mcp/${attacker.tenant}`,
      `/mcp//notes`,
      "/admin/v1/tenants",
      `/admin/v1/tenants/${victim.tenant}/sessions`,
      "/healthz",
      "/.well-known/oauth-protected-resource/mcp/x/y",
      `/mcp/${attacker.tenant}/notes?${encodeURIComponent(junk(3))}`,
    ];
    const methodsRpc = ["initialize", "tools/call", "tools/list", "resources/read", "resources/list", "prompts/get", "ping", "notifications/initialized", "server/discover", "", "__proto__", "constructor"];
    const params = () =>
      pick<unknown>([
        undefined,
        null,
        {},
        [],
        { name: "list_notes", arguments: {} },
        { name: "search_notes", arguments: { query: secret.slice(0, 10) } },
        { name: "search_notes", arguments: { query: "SECRET" } },
        { uri: "note://" + junk(4) },
        { name: pick(["add_note", "delete_note", "x"]), arguments: { title: junk(5), body: random() } },
        { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } },
        { _meta: { "io.modelcontextprotocol/protocolVersion": pick(["2026-07-28", "2099-01-01", 7]) } },
        { protocolVersion: pick(["2025-11-25", "2025-03-26", "1999-01-01", null]), capabilities: pick([{}, null]), clientInfo: pick([{ name: "f", version: "1" }, "x"]) },
      ]);
    const message = () => ({
      jsonrpc: pick(["2.0", "2.0", "2.0", "1.0", 2, undefined]),
      id: pick([1, "a", null, undefined, {}, [], 1.5, -1, 2 ** 60]),
      method: pick(methodsRpc),
      params: params(),
    });
    const body = () =>
      pick([
        () => JSON.stringify(message()),
        () => JSON.stringify([message(), message()]),
        () => JSON.stringify([]),
        () => junk(Math.floor(random() * 200)),
        () => JSON.stringify(message()).slice(0, Math.floor(random() * 40)),
        () => "",
        () => "null",
        () => '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":' + "[".repeat(3000) + "]".repeat(3000) + "}",
        () => JSON.stringify({ ...message(), extra: junk(50) }),
      ])();
    const sessionIds = [undefined, attackerSession.sessionId, victimSession.sessionId, "A".repeat(32), noise(10), "", "../" + victimSession.sessionId];
    const keys = [attacker.key, attacker.key, victim.key, "smcp_sk_" + noise(10), "", undefined];

    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const method = pick(["POST", "POST", "POST", "GET", "DELETE", "PUT", "PATCH", "OPTIONS"]);
      const path = pick(paths);
      const key = pick(keys);
      const sessionId = pick(sessionIds);
      // A request may carry the victim's key only on the victim's own path; anything
      // that reaches the victim with the victim's key is the victim's own business.
      const victimsOwn = key === victim.key;
      const headers: Record<string, string> = {};
      const set = (name: string, value: string | undefined) => {
        if (value === undefined) return;
        try {
          new Headers({ [name]: value });
          headers[name] = value;
        } catch {
          // not a legal header value: a real client could not send it either
        }
      };
      set("Authorization", key === undefined ? undefined : `Bearer ${key}`);
      set("Mcp-Session-Id", sessionId);
      set("Content-Type", pick(["application/json", "application/json; charset=utf-8", "text/plain", undefined]));
      set("Accept", pick(["application/json, text/event-stream", "text/event-stream", "*/*", undefined]));
      set("MCP-Protocol-Version", pick([undefined, "2025-11-25", "2025-03-26", "2026-07-28", "bogus"]));
      set("Origin", pick([undefined, undefined, "http://localhost:3000", "https://evil.example"]));
      set("Last-Event-ID", pick([undefined, undefined, "x.1", "_GET_stream.0", noise(5)]));
      const init: RequestInit = { method, headers };
      if (method === "POST" || method === "PUT" || method === "PATCH") init.body = body();

      const res = await SELF.fetch(`${ORIGIN}${path}`, init);
      // Streams stay open for live events; read what is there without waiting for more.
      const isStream = res.headers.get("content-type")?.startsWith("text/event-stream");
      const text = isStream ? await firstChunk(res) : await res.text();
      if (res.status >= 500) failures.push(`#${i} ${method} ${path} -> ${res.status}: ${text.slice(0, 200)}`);
      if (!victimsOwn && text.includes(secret)) failures.push(`#${i} ${method} ${path} leaked the victim's note`);
      if (/\bat [\w$.<>]+ \(|\.ts:\d+/.test(text)) failures.push(`#${i} ${method} ${path} sent a stack trace`);
    }
    expect(failures).toEqual([]);

    // Both tenants' sessions survived the storm.
    expect((await callTool(victimSession, "list_notes")).structuredContent.notes[0].title).toBe(secret);
  }, 180_000);
});

async function firstChunk(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return value ? new TextDecoder().decode(value) : "";
}
