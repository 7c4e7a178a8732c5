/**
 * The gateway on the session lane, the traffic of a real upstream (./upstream-server.ts,
 * the SDK's v2 server, no event store) that goes from server to client and back:
 * elicitation, roots, cancellation both ways, ping, the capabilities SMCP declares
 * upstream; resumability SMCP supplies in the upstream's place; an upstream leg that
 * drops mid-call; and an upstream that misbehaves (hangs, oversized or malformed
 * messages, a flood on its standalone stream). The official SDK client calls it
 * through SMCP; the upstream's call timeout is short here so a hung stream ends fast.
 */
import type { AddressInfo } from "node:net";
import type http from "node:http";
import type { McpServer } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { droppingFetch } from "./dropping-fetch";
import { Platform, textOf } from "./platform";
import { UPSTREAM_KEY, createUpstreamServer, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const TIMEOUT_SECONDS = 3;
const platform = new Platform({ vars: { SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) } });
let acme: { tenant: string; key: string };
let upstream: http.Server;

/** What the upstream saw of the client, recorded by its tools and handlers. */
const upstreamSaw = {
  rootsChanged: 0,
  cancelled: [] as string[],
  /** Resolved when the `wait` tool starts, so a test acts mid-call. */
  waiting: [] as (() => void)[],
};
/** Released by the resumption test once the client's stream has been cut. */
let gate: { promise: Promise<void>; release: () => void } = newGate();

function newGate() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });
const BIG = "x".repeat(1024 * 1024 + 10);

/** The shared upstream's tools and more: what server-to-client traffic and misbehaviour need. */
function trafficServer(): McpServer {
  const server = createUpstreamServer();
  const form = { message: "Your name?", requestedSchema: { type: "object" as const, properties: { name: { type: "string" as const } }, required: ["name"] } };
  server.registerTool("elicit", { description: "Asks the client for input on the call's stream", inputSchema: z.object({}) }, async (_a, ctx) => {
    const answer = await ctx.mcpReq.send({ method: "elicitation/create", params: { mode: "form", ...form } });
    return text(`${answer.action}: ${JSON.stringify(answer.content ?? {})}`);
  });
  server.registerTool("elicit_standalone", { description: "Asks the client for input on the standalone stream", inputSchema: z.object({}) }, async () => {
    const answer = await server.server.elicitInput({ mode: "form", ...form });
    return text(`${answer.action}: ${JSON.stringify(answer.content ?? {})}`);
  });
  server.registerTool("roots", { description: "Lists the client's roots, on the call's stream and the standalone one", inputSchema: z.object({}) }, async (_a, ctx) => {
    const related = await ctx.mcpReq.send({ method: "roots/list" });
    const standalone = await server.server.listRoots();
    return text([...related.roots, ...standalone.roots].map((r) => r.uri).join(" "));
  });
  server.registerTool("client_capabilities", { description: "What the client declared to this upstream", inputSchema: z.object({}) }, async () =>
    text(JSON.stringify(server.server.getClientCapabilities() ?? {})),
  );
  server.registerTool("ping_client", { description: "Pings the client", inputSchema: z.object({}) }, async (_a, ctx) => {
    await ctx.mcpReq.send({ method: "ping" });
    return text("pong");
  });
  server.registerTool("cancel_own", { description: "Asks the client for input, then cancels the request", inputSchema: z.object({}) }, async (_a, ctx) => {
    const abort = new AbortController();
    const asked = ctx.mcpReq.send({ method: "elicitation/create", params: { mode: "form", ...form } }, { signal: abort.signal }).catch((e: Error) => e);
    abort.abort("changed my mind");
    await asked;
    return text("withdrew the question");
  });
  server.registerTool("wait", { description: "Works until cancelled; unless quiet, says so first", inputSchema: z.object({ tag: z.string(), quiet: z.boolean().optional() }) }, async ({ tag, quiet }, ctx) => {
    // A message first opens the call's event stream (Node sends the headers with the first bytes).
    if (!quiet) await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", data: `working on ${tag}` } });
    for (const started of upstreamSaw.waiting.splice(0)) started();
    await new Promise<void>((resolve) => ctx.mcpReq.signal.addEventListener("abort", () => resolve(), { once: true }));
    upstreamSaw.cancelled.push(tag);
    return text("cancelled");
  });
  server.registerTool("progress_gated", { description: "Progress, a pause the test ends, progress, then the answer", inputSchema: z.object({}) }, async (_a, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken === undefined) return text("no progress token");
    await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 1, total: 3 } });
    await gate.promise;
    await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 2, total: 3 } });
    return text("done after the cut");
  });
  server.registerTool("big", { description: "Answers with more than 1 MiB", inputSchema: z.object({}) }, async () => text(BIG));
  server.registerTool("flood_standalone", { description: "Sends 250 log lines on the standalone stream", inputSchema: z.object({}) }, async () => {
    for (let i = 0; i < 250; i++) await server.server.sendLoggingMessage({ level: "info", data: `standalone ${i}` });
    return text("flooded");
  });
  server.server.setNotificationHandler("notifications/roots/list_changed", async () => void upstreamSaw.rootsChanged++);
  return server;
}

/** Calls of these tools get a misbehaving answer in the SDK's place. */
function misbehave(body: unknown): Response | undefined {
  const call = body as { method?: string; id?: unknown; params?: { name?: string } } | undefined;
  if (call?.method !== "tools/call") return undefined;
  const sse = (chunks: string[], end: boolean) =>
    new Response(
      new ReadableStream({
        start(c) {
          for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
          if (end) c.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  const progress = `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "about to stop" } })}\n\n`;
  switch (call.params?.name) {
    case "hang_raw":
      return sse([], false); // the stream opens and nothing ever comes
    case "close_early":
      return sse([progress], true); // a message, then the stream ends without an answer
    case "not_jsonrpc":
      return sse([`event: message\ndata: ${JSON.stringify({ hello: "world", id: call.id })}\n\n`], true);
    case "no_result":
      return Response.json({ jsonrpc: "2.0", id: call.id, extra: "neither a result nor an error" });
    case "not_json":
      return sse(["event: message\ndata: this is not JSON\n\n"], true);
    default:
      return undefined;
  }
}

const started = () => new Promise<void>((resolve) => upstreamSaw.waiting.push(resolve));
const failure = (p: Promise<unknown>) => p.then(() => null, (err: Error) => err.message);

beforeAll(async () => {
  upstream = await startUpstream(0, { createServer: trafficServer, intercept: misbehave });
  await platform.start();
  acme = await platform.tenant("gw-traffic");
  const res = await fetch(`${platform.url}/admin/v1/tenants/${acme.tenant}/servers/remote/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: "Bearer e2e-admin-token" }, body: UPSTREAM_KEY });
  expect(res.status, await res.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${acme.tenant}/servers/remote/upstream`, { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
});

const elicitingClient = (answers: string[] = []) =>
  platform.connect(acme.tenant, "remote", acme.key, {
    capabilities: { elicitation: { form: {} }, roots: { listChanged: true } },
    setup: (c) => {
      c.setRequestHandler("elicitation/create", async (req) => {
        answers.push(String(req.params.message));
        return { action: "accept", content: { name: "Ada" } };
      });
      c.setRequestHandler("roots/list", async () => ({ roots: [{ uri: "file:///work/project", name: "project" }] }));
    },
  });

describe("gateway, session lane: server-to-client traffic", () => {
  it("upstream:traffic — the upstream's elicitation reaches the client on the call's stream and on the standalone stream, and the answers reach the upstream", async () => {
    const asked: string[] = [];
    const { client } = await elicitingClient(asked);
    expect(textOf(await client.callTool({ name: "elicit", arguments: {} }))).toBe('accept: {"name":"Ada"}');
    expect(textOf(await client.callTool({ name: "elicit_standalone", arguments: {} }))).toBe('accept: {"name":"Ada"}');
    expect(asked).toEqual(["Your name?", "Your name?"]);
    await client.close();
  });

  it("upstream:traffic — the upstream's roots/list reaches the client on both streams, and the client's roots/list_changed reaches the upstream", async () => {
    const { client } = await elicitingClient();
    expect(textOf(await client.callTool({ name: "roots", arguments: {} }))).toBe("file:///work/project file:///work/project");
    const before = upstreamSaw.rootsChanged;
    await client.sendRootsListChanged();
    await vi.waitFor(() => expect(upstreamSaw.rootsChanged).toBe(before + 1));
    await client.close();
  });

  it("upstream:traffic — SMCP declares upstream exactly the capabilities its client declared: a client without sampling does not get sampling declared", async () => {
    const { client: plain } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(JSON.parse(textOf(await plain.callTool({ name: "client_capabilities", arguments: {} })))).toEqual({});
    await plain.close();
    const { client } = await elicitingClient();
    expect(JSON.parse(textOf(await client.callTool({ name: "client_capabilities", arguments: {} })))).toEqual({ elicitation: { form: {} }, roots: { listChanged: true } });
    await client.close();
  });

  it("upstream:traffic — pings pass both ways: the client's ping is answered, the upstream's ping reaches the client and its answer comes back", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    await expect(client.ping()).resolves.toEqual({});
    expect(textOf(await client.callTool({ name: "ping_client", arguments: {} }))).toBe("pong");
    await client.close();
  });

  it("upstream:traffic — the client's cancellation reaches the upstream and ends its work; the session goes on", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    const abort = new AbortController();
    const working = started();
    const call = failure(client.callTool({ name: "wait", arguments: { tag: "cancel-me" } }, { signal: abort.signal }));
    await working;
    abort.abort("no longer needed");
    expect(await call).toMatch(/no longer needed|abort/i);
    await vi.waitFor(() => expect(upstreamSaw.cancelled).toContain("cancel-me"));
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after the cancel" } }))).toBe("echo: after the cancel");
    await client.close();
  });

  it("upstream:traffic — the upstream's cancellation of its own request reaches the client's handler", async () => {
    const aborted: string[] = [];
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      capabilities: { elicitation: { form: {} } },
      setup: (c) =>
        c.setRequestHandler("elicitation/create", (_req, ctx) =>
          new Promise((resolve) => ctx.mcpReq.signal.addEventListener("abort", () => (aborted.push(String(ctx.mcpReq.signal.reason)), resolve({ action: "cancel" })), { once: true })),
        ),
    });
    expect(textOf(await client.callTool({ name: "cancel_own", arguments: {} }))).toBe("withdrew the question");
    await vi.waitFor(() => expect(aborted).toHaveLength(1));
    expect(aborted[0]).toContain("changed my mind");
    await client.close();
  });
});

describe("gateway, session lane: resumability and a dropped upstream leg", () => {
  it("upstream:resume — a client stream cut mid-call resumes with Last-Event-ID: every progress once, then the answer, though the upstream has no event store", async () => {
    gate = newGate();
    const cut = droppingFetch({ tool: "progress_gated", onDrop: () => gate.release() });
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, { fetch: cut.fetch });
    const progress: number[] = [];
    const result = await client.callTool({ name: "progress_gated", arguments: {} }, { onprogress: (p) => progress.push(p.progress), timeout: 30_000 });
    expect(textOf(result)).toBe("done after the cut");
    expect(cut.resumedWith()).toMatch(/\.\d+$/);
    expect(progress).toEqual([1, 2]);
    await client.close();
  });

  it("upstream:leg-drop — an upstream killed mid-call, before its answer's headers or in the middle of its event stream, ends the call with an error that says which; the session goes on once it is back", async () => {
    const said: string[] = [];
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      setup: (c) => c.setNotificationHandler("notifications/message", (n) => void said.push(String(n.params.data))),
    });
    const cases = [
      { quiet: true, error: /Upstream remote \(127\.0\.0\.1:\d+\) could not be reached for tools\/call: 127\.0\.0\.1:\d+ could not be reached, or it dropped the connection before answering/ },
      { quiet: false, error: /Upstream remote \(127\.0\.0\.1:\d+\) could not be reached for tools\/call: its event stream broke off/ },
    ];
    for (const { quiet, error } of cases) {
      const working = started();
      const call = failure(client.callTool({ name: "wait", arguments: { tag: `killed-${quiet}`, quiet } }));
      await working;
      // Streaming: once the client has the upstream's first message, SMCP is reading the upstream's event stream.
      if (!quiet) await vi.waitFor(() => expect(said).toContain("working on killed-false"));
      const port = (upstream.address() as AddressInfo).port;
      await stopUpstream(upstream);
      const message = await call;
      upstream = await startUpstream(port, { createServer: trafficServer, intercept: misbehave });
      expect(message).toMatch(error);
      expect(textOf(await client.callTool({ name: "echo", arguments: { text: `back after ${quiet ? "a quiet" : "a streaming"} call` } }))).toMatch(/^echo: back/);
    }
    await client.close();
  });

  it("upstream:leg-drop — an upstream that ends its stream without answering gets the call ended with an error that says so; the session goes on", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(await failure(client.callTool({ name: "close_early", arguments: {} }))).toMatch(/Upstream remote .* broke the protocol answering tools\/call: it ended its stream without answering tools\/call/);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "still here" } }))).toBe("echo: still here");
    await client.close();
  });
});

describe("gateway, session lane: an untrusted upstream", () => {
  it("untrusted:messages — a hung stream (opened, nothing sent) times out with an error naming the upstream and the wait; the session goes on", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(await failure(client.callTool({ name: "hang_raw", arguments: {} }))).toMatch(new RegExp(`Upstream remote \\(127\\.0\\.0\\.1:\\d+\\) did not answer tools/call within ${TIMEOUT_SECONDS} s`));
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after the hang" } }))).toBe("echo: after the hang");
    await client.close();
  });

  it("untrusted:messages upstream:traffic — a call that times out is cancelled upstream too: the upstream's work ends", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(await failure(client.callTool({ name: "wait", arguments: { tag: "timed-out" } }))).toMatch(/did not answer tools\/call within/);
    await vi.waitFor(() => expect(upstreamSaw.cancelled).toContain("timed-out"));
    await client.close();
  });

  it("untrusted:messages — an oversized message and messages that are not JSON-RPC are refused with errors that say so; the session goes on", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key);
    expect(await failure(client.callTool({ name: "big", arguments: {} }))).toMatch(/Upstream remote .* broke the protocol answering tools\/call: its event stream has an event larger than 1048576 characters/);
    expect(await failure(client.callTool({ name: "not_jsonrpc", arguments: {} }))).toMatch(/broke the protocol answering tools\/call: it sent a message that is not JSON-RPC 2\.0/);
    expect(await failure(client.callTool({ name: "no_result", arguments: {} }))).toMatch(/broke the protocol answering tools\/call: it sent a message that is not JSON-RPC 2\.0/);
    expect(await failure(client.callTool({ name: "not_json", arguments: {} }))).toMatch(/broke the protocol answering tools\/call: it sent a message that is not JSON$/);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "unharmed" } }))).toBe("echo: unharmed");
    await client.close();
  });

  it("untrusted:messages — the upstream's standalone stream is rate-capped: of 250 messages in a burst the client gets the first 200", async () => {
    const lines: string[] = [];
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, {
      setup: (c) => c.setNotificationHandler("notifications/message", (n) => void lines.push(String(n.params.data))),
    });
    expect(textOf(await client.callTool({ name: "flood_standalone", arguments: {} }))).toBe("flooded");
    await vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(200), { timeout: 15_000 });
    // A round trip through the same session after the 200th: anything past the cap would have come by now, in order.
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after the flood" } }))).toBe("echo: after the flood");
    expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `standalone ${i}`));
    await client.close();
  });
});
