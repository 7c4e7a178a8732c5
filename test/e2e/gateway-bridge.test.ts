/**
 * A 2025 session-lane client in front of an upstream that serves 2026-07-28 only (the
 * SDK's v2 server behind `createMcpHandler`, ./upstream-server.ts): what the 2026
 * revision carries per request is bridged to the 2025 session. The upstream's
 * `input_required` answers become server-to-client requests on the call's stream, and
 * their answers go back upstream; the log level the client set travels in each
 * request's envelope. The official SDK client calls through SMCP with its own handlers.
 */
import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { UPSTREAM_KEY, createInputServer, inputSeen, seen, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const platform = new Platform();
let acme: { tenant: string; key: string };
let modern: http.Server;

beforeAll(async () => {
  modern = await startUpstream(0, { era: "2026", createServer: createInputServer });
  await platform.start();
  acme = await platform.tenant("gb-acme");
  const res = await fetch(`${platform.url}/admin/v1/tenants/${acme.tenant}/servers/modern/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(res.status, await res.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/modern/upstream`, { url: urlOf(modern), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (modern) await stopUpstream(modern);
});

const rounds = (tool: string) => inputSeen.rounds.filter((r) => r.tool === tool);

describe("gateway, 2025 session in front of a 2026 upstream: input_required bridged", () => {
  it("upstream:2026-input-bridge — an upstream's elicitation, then sampling, reach the client on the call's stream as 2025 requests; the answers and the upstream's requestState go back upstream until the final result", async () => {
    const asked: string[] = [];
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
      setup: (c) => {
        c.setRequestHandler("elicitation/create", async (req) => {
          asked.push(`elicit ${String(req.params.message)}`);
          return { action: "accept", content: { publish: true } };
        });
        c.setRequestHandler("sampling/createMessage", async (req) => {
          const first = req.params.messages[0]?.content as { text?: string };
          asked.push(`sample ${first.text}`);
          return { role: "assistant", content: { type: "text", text: "short and sweet" }, model: "e2e-model" };
        });
        c.setRequestHandler("roots/list", async () => ({ roots: [{ uri: "file:///work/a" }, { uri: "file:///work/b" }] }));
      },
    });
    const before = rounds("approve").length;
    expect(textOf(await client.callTool({ name: "approve", arguments: { title: "Q4" } }))).toBe("publish=true summary=short and sweet");
    expect(asked).toEqual(['elicit Publish "Q4"?', 'sample Summarize "Q4"']);
    expect(rounds("approve").slice(before)).toEqual([
      { tool: "approve", requestState: undefined, keys: [] },
      { tool: "approve", requestState: "asked-publish", keys: ["publish"] },
      { tool: "approve", requestState: "asked-summary:true", keys: ["summary"] },
    ]);
    expect(textOf(await client.callTool({ name: "where", arguments: {} }))).toBe("file:///work/a,file:///work/b");
    await client.close();
  });

  it("upstream:2026-input-bridge — a client that did not declare what the upstream asks for gets the call ended with an error naming it (the upstream's own words, from its HTTP 400 answer); nothing is asked of it", async () => {
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, { lane: "session", capabilities: { sampling: {} } });
    const error = await client.callTool({ name: "approve", arguments: { title: "Q1" } }).then(
      (r) => new Error(`answered: ${JSON.stringify(r)}`),
      (e: Error) => e,
    );
    expect(error.message).toContain("Upstream modern");
    expect(error.message).toContain("elicitation/create");
    // The session goes on.
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    await client.close();
  });

  it("upstream:2026-input-bridge — an upstream that keeps asking is stopped after MAX_INPUT_ROUNDS rounds with an error that says so", async () => {
    let answered = 0;
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      capabilities: { elicitation: { form: {} } },
      setup: (c) => c.setRequestHandler("elicitation/create", async () => (answered++, { action: "accept", content: { ok: true } })),
    });
    const before = rounds("nag").length;
    const error = await client.callTool({ name: "nag", arguments: {} }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toContain("more than 10 times");
    expect(answered).toBe(10);
    expect(rounds("nag").length - before).toBe(11);
    await client.close();
  });

  it("upstream:2026-input-bridge — the client's cancellation of the call withdraws the input request it was asked and sends nothing more upstream", async () => {
    const call = new AbortController();
    const withdrawn: string[] = [];
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      capabilities: { elicitation: { form: {} } },
      setup: (c) =>
        c.setRequestHandler("elicitation/create", (_req, ctx) => {
          call.abort("changed my mind");
          return new Promise((resolve) => ctx.mcpReq.signal.addEventListener("abort", () => (withdrawn.push(String(ctx.mcpReq.signal.reason)), resolve({ action: "cancel" })), { once: true }));
        }),
    });
    const before = rounds("approve").length;
    const ended = await client.callTool({ name: "approve", arguments: { title: "never" } }, { signal: call.signal }).then(
      () => "answered",
      (e: Error) => e.message,
    );
    expect(ended).toMatch(/changed my mind|abort/i);
    await vi.waitFor(() => expect(withdrawn).toHaveLength(1), { timeout: 20_000 });
    expect(withdrawn[0]).toContain("cancelled");
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("echo: after");
    expect(rounds("approve").length - before).toBe(1);
    await client.close();
  });
});

describe("gateway, 2025 session in front of a 2026 upstream: logging", () => {
  it("upstream:2026-session-log — the client's logging/setLevel is kept by the session and sent in each upstream request's envelope; the upstream's log lines at that level reach the client on the call's stream (none before it set one: the 2026 revision's opt-in)", async () => {
    const logs: string[] = [];
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      setup: (c) => c.setNotificationHandler("notifications/message", (n) => void logs.push(String(n.params.data))),
    });
    expect(textOf(await client.callTool({ name: "log", arguments: {} }))).toBe("logged");
    expect(logs).toEqual([]);
    expect(seen.modernLogLevels.at(-1)).toBeUndefined();
    await client.setLoggingLevel("info");
    expect(textOf(await client.callTool({ name: "log", arguments: {} }))).toBe("logged");
    expect(logs).toEqual(["an info line", "an error line"]);
    await client.setLoggingLevel("error");
    logs.length = 0;
    expect(textOf(await client.callTool({ name: "log", arguments: {} }))).toBe("logged");
    expect(logs).toEqual(["an error line"]);
    expect(seen.modernLogLevels.at(-1)).toBe("error");
    await client.close();
  });
});

describe("gateway, 2025 session in front of a 2026 upstream: resource subscriptions", () => {
  it("upstream:2026-session-subscribe — resources/subscribe and unsubscribe become the upstream listen's resourceSubscriptions; the upstream's notifications/resources/updated reach the client's standalone stream while it is subscribed", async () => {
    const updated: string[] = [];
    const { client } = await platform.connect(acme.tenant, "modern", acme.key, {
      lane: "session",
      setup: (c) => c.setNotificationHandler("notifications/resources/updated", (n) => void updated.push(String(n.params.uri))),
    });
    expect(client.getServerCapabilities()?.resources?.subscribe).toBe(true);
    await client.subscribeResource({ uri: "e2e://note" });
    // The listen is reopened with the new filter; a change announced before it is open upstream is not heard, so announce until one is.
    const heardOf = async (uri: string, announce: string[]) => {
      const deadline = Date.now() + 20_000;
      while (!updated.includes(uri)) {
        if (Date.now() > deadline) throw new Error(`never happened: an update of ${uri} reached the subscribed client`);
        for (const touched of announce) await fetch(urlOf(modern, `/touch?uri=${touched}`), { method: "POST" });
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await heardOf("e2e://note", ["e2e://note"]);
    await client.unsubscribeResource({ uri: "e2e://note" });
    const heard = updated.length;
    // With the note unsubscribed and a marker subscribed, the note's updates, announced before each of the marker's, no longer arrive.
    await client.subscribeResource({ uri: "e2e://marker" });
    await heardOf("e2e://marker", ["e2e://note", "e2e://other", "e2e://marker"]);
    expect(updated.slice(heard).filter((u) => u !== "e2e://marker")).toEqual([]);
    expect(updated).not.toContain("e2e://other");
    const refused = await client.subscribeResource({ uri: "" }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(refused).toContain("needs a uri");
    await client.close();
  });
});
