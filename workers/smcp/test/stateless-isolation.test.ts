/**
 * The stateless lane hands tools nothing of the platform and keeps tenants apart
 * (issue 10, item 10): no `env` in the `authInfo` a tool receives; list-changed
 * events reach only the listen streams of the tenant and server that published them;
 * `subscriptions/listen` streams are capped per tenant per isolate
 * (SMCP_MAX_LISTEN_STREAMS_PER_TENANT is 3 in vitest.config.ts).
 *
 * No sleeps: a listener is proven to have received nothing by an event published
 * after the one it must not see, on its own stream, arriving first. On the base
 * code, A's own stream got nothing at all: the SDK's in-memory bus wrote into it
 * from the tool call's request, which Workers refuse (see mcp/listen-bus.ts).
 */
import { env } from "cloudflare:test";
import { McpServer } from "@modelcontextprotocol/server";
import type { ServerModule } from "@smcp/servers";
import { describe, expect, it } from "vitest";
import { serveStateless } from "../src/mcp/stateless-lane";
import { traceOf } from "../src/trace";
import {
  ORIGIN,
  SseReader,
  STATELESS_REVISION,
  busStub,
  expectRpcError,
  mcpUrl,
  provisionTenant,
  rpc,
  statelessFetch,
  statelessMeta,
  statelessTool,
  uniqueName,
  restartObject,
} from "./helpers";

const LISTEN_CAP = 3;


/** Opens a `subscriptions/listen` stream for tools and prompts list changes and reads past its acknowledgement. */
async function listen(url: string, key: string | null): Promise<SseReader> {
  const res = await statelessFetch(url, key, "subscriptions/listen", { notifications: { toolsListChanged: true, promptsListChanged: true } });
  expect(res.status).toBe(200);
  const reader = new SseReader(res);
  const ack = await nextMessage(reader);
  expect(ack.method).toBe("notifications/subscriptions/acknowledged");
  return reader;
}

/** The next JSON-RPC message on a stream (keepalive comments and empty events skipped). */
async function nextMessage(reader: SseReader): Promise<any> {
  for (;;) {
    const event = await reader.next();
    if (!event) throw new Error("the listen stream ended");
    if (event.data !== "") return JSON.parse(event.data);
  }
}

describe("stateless lane isolation", () => {
  it("stateless:listen-scoped isolation:tenants — tenant A's tools/list_changed reaches A's listen stream and not tenant B's", async () => {
    const a = await provisionTenant({ prefix: "lca", servers: ["everything"] });
    const b = await provisionTenant({ prefix: "lcb", servers: ["everything"] });
    const aStream = await listen(mcpUrl(a.tenant, "everything"), a.key);
    const bStream = await listen(mcpUrl(b.tenant, "everything"), b.key);

    await statelessTool(mcpUrl(a.tenant, "everything"), a.key, "test_trigger_tool_change");
    // Publishing queues the event for every stream on the bus at once, and each stream
    // delivers in order: had B been on A's bus, A's event would come before B's own.
    expect((await nextMessage(aStream)).method).toBe("notifications/tools/list_changed");
    await statelessTool(mcpUrl(b.tenant, "everything"), b.key, "test_trigger_prompt_change");
    expect((await nextMessage(bStream)).method).toBe("notifications/prompts/list_changed");

    // A's stream saw nothing of B's either.
    await statelessTool(mcpUrl(a.tenant, "everything"), a.key, "test_trigger_tool_change");
    expect((await nextMessage(aStream)).method).toBe("notifications/tools/list_changed");
    await aStream.cancel();
    await bStream.cancel();
  });

  it("stateless:listen-cross-isolate — a listener whose bus object restarted hears every change published meanwhile, once and in order", async () => {
    const t = await provisionTenant({ prefix: "lrestart", servers: ["everything"] });
    const url = mcpUrl(t.tenant, "everything");
    const stream = await listen(url, t.key);
    await statelessTool(url, t.key, "test_trigger_tool_change");
    expect((await nextMessage(stream)).method).toBe("notifications/tools/list_changed");
    // A restart (the object's abort; eviction waits for open streams) cuts the stream the
    // listener's pump holds from the object; the pump reopens it after its cursor.
    await restartObject(() => busStub(t.tenant, "everything"));
    await statelessTool(url, t.key, "test_trigger_prompt_change");
    await statelessTool(url, t.key, "test_trigger_tool_change");
    expect((await nextMessage(stream)).method).toBe("notifications/prompts/list_changed");
    expect((await nextMessage(stream)).method).toBe("notifications/tools/list_changed");
    // Nothing was delivered twice: the next change is the next one published.
    await statelessTool(url, t.key, "test_trigger_prompt_change");
    expect((await nextMessage(stream)).method).toBe("notifications/prompts/list_changed");
    await stream.cancel();
  });

  it("stateless:listen-scoped — a tenant's listen streams are capped per isolate (429), and a closed one frees its slot", async () => {
    const t = await provisionTenant({ prefix: "cap", servers: ["everything", "notes"] });
    // Listen streams of every server of the tenant count against the one cap.
    const other = await provisionTenant({ prefix: "capo", servers: ["everything"] });
    const streams = [
      await listen(mcpUrl(t.tenant, "everything"), t.key),
      await listen(mcpUrl(t.tenant, "everything"), t.key),
      await listen(mcpUrl(t.tenant, "notes"), t.key),
    ];
    expect(streams).toHaveLength(LISTEN_CAP);

    const refused = await statelessFetch(mcpUrl(t.tenant, "notes"), t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
    expect(refused.status).toBe(429);
    const error = await expectRpcError(refused, 429);
    expect(error.message).toBe(`Too many open subscriptions/listen streams for this tenant (at most ${LISTEN_CAP} at once); close one first`);
    // Other tenants and ordinary requests are not affected.
    const neighbour = await listen(mcpUrl(other.tenant, "everything"), other.key);
    expect((await statelessTool(mcpUrl(t.tenant, "everything"), t.key, "test_simple_text")).content[0].text).toContain("simple text");

    // Closing a stream gives its slot back (the cancel reaches the Worker asynchronously: poll with a deadline).
    await streams.pop()!.cancel();
    const deadline = Date.now() + 5_000;
    let reopened: Response;
    for (;;) {
      reopened = await statelessFetch(mcpUrl(t.tenant, "notes"), t.key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
      if (reopened.status !== 429 || Date.now() > deadline) break;
      await reopened.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(reopened.status).toBe(200);
    await reopened.body?.cancel();
    for (const s of [...streams, neighbour]) await s.cancel();
  });

  it("stateless:requests isolation:tenants — a tool's authInfo names the caller and holds nothing of the platform", async () => {
    const tenant = uniqueName("auth");
    let seen: unknown;
    const probe: ServerModule = {
      name: "probe",
      title: "probe",
      version: "1",
      create: () => {
        const mcp = new McpServer({ name: "probe", version: "1" });
        mcp.registerTool("who", { description: "what the tool receives" }, async (ctx) => {
          seen = ctx.http?.authInfo;
          return { content: [{ type: "text", text: "ok" }] };
        });
        return mcp;
      },
    };
    const request = new Request(`${ORIGIN}/mcp/${tenant}/probe`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": STATELESS_REVISION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "who",
      },
    });
    const body = rpc("tools/call", { name: "who", arguments: {}, _meta: statelessMeta() });
    const principal = { tenant, server: "probe", keyId: "key-1" };
    const res = await serveStateless(request, body, probe, null, principal, env, 65536, traceOf(request));
    expect(res.status).toBe(200);
    await res.text();

    const authInfo = seen as { token: string; clientId: string; scopes: string[]; extra: Record<string, unknown> };
    expect(authInfo.clientId).toBe("key-1");
    expect(authInfo.token).toBe("");
    expect(Object.keys(authInfo.extra).sort()).toEqual(["server", "tenant", "traceparent"]);
    expect(authInfo.extra).toMatchObject({ tenant, server: "probe" });
    // Nothing reachable from it is an object of the platform (a binding, a namespace, the env).
    const reachable: unknown[] = [];
    const walk = (v: unknown) => {
      if (typeof v !== "object" || v === null || reachable.includes(v)) return;
      reachable.push(v);
      for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k]);
    };
    walk(authInfo);
    expect(reachable).not.toContain(env);
    expect(reachable.every((v) => Object.getPrototypeOf(v) === Object.prototype || Array.isArray(v))).toBe(true);
  });
});
