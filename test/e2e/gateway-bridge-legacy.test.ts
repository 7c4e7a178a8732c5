/**
 * The gateway bridges a 2025-era upstream's mid-call requests (sampling, elicitation,
 * roots) into 2026-07-28 input rounds: the official SDK client on the stateless lane,
 * with its sampling, elicitation and roots handlers, gets `input_required` results and
 * runs the rounds itself; the upstream (./upstream-server.ts, the SDK's v2 server)
 * waits for the answers, parked in the caller's upstream object.
 */
import type http from "node:http";
import type { McpServer } from "@modelcontextprotocol/server";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { UPSTREAM_KEY, createUpstreamServer, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const platform = new Platform();
let acme: { tenant: string; key: string };
let upstream: http.Server;

const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });
const form = { message: "Your name?", requestedSchema: { type: "object" as const, properties: { name: { type: "string" as const } }, required: ["name"] } };

/** The shared upstream's tools, plus ones that ask for elicitation and roots, and several rounds in one call. */
function bridgeServer(): McpServer {
  const server = createUpstreamServer();
  server.registerTool("elicit", { description: "Asks the client for its name", inputSchema: z.object({}) }, async (_a, ctx) => {
    const answer = await ctx.mcpReq.send({ method: "elicitation/create", params: { mode: "form", ...form } });
    return text(`${answer.action}: ${JSON.stringify(answer.content ?? {})}`);
  });
  server.registerTool("interview", { description: "Elicits, then samples, then lists roots: three rounds", inputSchema: z.object({}) }, async (_a, ctx) => {
    const named = await ctx.mcpReq.send({ method: "elicitation/create", params: { mode: "form", ...form } });
    const sampled = await ctx.mcpReq.send({ method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: "greet" } }], maxTokens: 20 } });
    const roots = await ctx.mcpReq.send({ method: "roots/list" });
    const name = (named.content as { name?: string } | undefined)?.name ?? "?";
    return text(`${name} / ${(sampled.content as { text?: string }).text ?? ""} / ${roots.roots.map((r) => r.uri).join(" ")}`);
  });
  server.registerTool("sample_progress", { description: "Reports progress before and after it samples", inputSchema: z.object({}) }, async (_a, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken === undefined) return text("no progress token");
    await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 1, total: 2, message: "asking" } });
    const sampled = await ctx.mcpReq.send({ method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: "more" } }], maxTokens: 20 } });
    await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 2, total: 2, message: "answered" } });
    return text(`sampled: ${(sampled.content as { text?: string }).text ?? ""}`);
  });
  server.registerTool("client_capabilities", { description: "What the client declared to this upstream", inputSchema: z.object({}) }, async () =>
    text(JSON.stringify(server.server.getClientCapabilities() ?? {})),
  );
  return server;
}

async function front(tenant: string, server: string, url: string): Promise<void> {
  const res = await fetch(`${platform.url}/admin/v1/tenants/${tenant}/servers/${server}/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(res.status, await res.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${tenant}/servers/${server}/upstream`, { url, headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
}

const asked: string[] = [];
/** A 2026 client that declares sampling, elicitation and roots and answers them. */
const answeringClient = (key = acme.key) =>
  platform.connect(acme.tenant, "remote", key, {
    lane: "stateless",
    capabilities: { sampling: {}, elicitation: { form: {} }, roots: {} },
    setup: (c: Client) => {
      c.setRequestHandler("sampling/createMessage", async () => (asked.push("sampling"), { model: "e2e", role: "assistant", content: { type: "text", text: "a sampled reply" } }));
      c.setRequestHandler("elicitation/create", async (req) => (asked.push(`elicitation: ${String(req.params.message)}`), { action: "accept", content: { name: "Ada" } }));
      c.setRequestHandler("roots/list", async () => (asked.push("roots"), { roots: [{ uri: "file:///work/project", name: "project" }] }));
    },
  });

beforeAll(async () => {
  upstream = await startUpstream(0, { createServer: bridgeServer });
  await platform.start();
  acme = await platform.tenant("bl-acme");
  await front(acme.tenant, "remote", urlOf(upstream));
}, 90_000);

afterAll(async () => {
  await platform.dispose();
  if (upstream) await stopUpstream(upstream);
});

describe("gateway, stateless lane: a 2025 upstream's requests become input rounds", () => {
  it("upstream:2025-input-bridge — the upstream's sampling, elicitation and roots requests about a call reach the 2026 client as input_required rounds; its answers reach the upstream and the call gets its result", async () => {
    const { client } = await answeringClient();
    asked.length = 0;
    expect(textOf(await client.callTool({ name: "sample", arguments: {} }))).toBe("sampled: a sampled reply");
    expect(textOf(await client.callTool({ name: "elicit", arguments: {} }))).toBe('accept: {"name":"Ada"}');
    expect(textOf(await client.callTool({ name: "interview", arguments: {} }))).toBe("Ada / a sampled reply / file:///work/project");
    expect(asked).toEqual(["sampling", "elicitation: Your name?", "elicitation: Your name?", "sampling", "roots"]);
    // Progress of the upstream call reaches the client in each round, under that round's own progress token.
    const progress: { message?: string }[] = [];
    expect(textOf(await client.callTool({ name: "sample_progress", arguments: {} }, { onprogress: (p) => progress.push(p) }))).toBe("sampled: a sampled reply");
    // (the SDK client reports its own fulfilment of the round as progress too)
    expect(progress.map((p) => p.message).filter((m) => !m?.startsWith("Fulfilling input required"))).toEqual(["asking", "answered"]);
    // SMCP declared to the upstream what this client declared.
    const declared = JSON.parse(textOf(await client.callTool({ name: "client_capabilities", arguments: {} })));
    expect(declared).toMatchObject({ sampling: {}, elicitation: { form: {} }, roots: {} });
    await client.close();
  });

  it("upstream:2025-input-bridge — the round's requestState is SMCP's handle, bound to the principal: another key's retry, a forged one and a replayed one are refused; the owner's retry goes on", async () => {
    const { client } = await answeringClient();
    const round = (await client.callTool({ name: "elicit", arguments: {} }, { allowInputRequired: true })) as unknown as {
      resultType: string;
      inputRequests: Record<string, { method: string; params: { message: string } }>;
      requestState: string;
    };
    expect(round.resultType).toBe("input_required");
    const [key, request] = Object.entries(round.inputRequests)[0]!;
    expect(request).toMatchObject({ method: "elicitation/create", params: { message: "Your name?" } });
    expect(round.requestState).toMatch(/^smcp-in\.[A-Za-z0-9_-]{43}$/);
    const answer = { [key]: { action: "accept", content: { name: "Grace" } } };
    const retry = (c: Client, requestState: string) => c.callTool({ name: "elicit", arguments: {}, inputResponses: answer, requestState } as never, { allowInputRequired: true });

    const { key: otherKey } = await platform.admin().createKey(acme.tenant, "another key");
    const other = await answeringClient(otherKey);
    await expect(retry(other.client, round.requestState)).rejects.toThrow(/requestState refused: it is unknown or expired/);
    await expect(retry(client, `smcp-in.${"A".repeat(43)}`)).rejects.toThrow(/requestState refused/);
    await expect(retry(client, "x".repeat(10_000))).rejects.toThrow(/requestState refused: it is not one SMCP issued/);
    await expect(client.callTool({ name: "sample", arguments: {}, inputResponses: answer, requestState: round.requestState } as never)).rejects.toThrow(/it was issued for tools\/call of elicit/);

    expect(textOf(await retry(client, round.requestState))).toBe('accept: {"name":"Grace"}');
    await expect(retry(client, round.requestState)).rejects.toThrow(/requestState refused: it is unknown or expired/);
    await client.close();
    await other.client.close();
  });

  it("upstream:2025-input-bridge — a client that did not declare sampling is not declared to have it upstream, and a call that needs it ends with an error that says so", async () => {
    const { client } = await platform.connect(acme.tenant, "remote", acme.key, { lane: "stateless" });
    const declared = JSON.parse(textOf(await client.callTool({ name: "client_capabilities", arguments: {} })));
    expect(declared.sampling).toBeUndefined();
    await expect(client.callTool({ name: "sample", arguments: {} })).rejects.toThrow(
      /Upstream remote asked for sampling\/createMessage during tools\/call, but the client did not declare the sampling capability/,
    );
    // The upstream call was cancelled and the principal's upstream session goes on.
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("echo: after");
    await client.close();
  });

  it("upstream:2025-input-bridge upstream:stateless-principal — an anonymous caller's upstream session lasts one request: sampling is not declared for it upstream, and a call that needs it ends with an error that says why", async () => {
    await platform.admin().call("POST", "/tenants", { id: "bl-public", auth: "none" });
    await front("bl-public", "remote", urlOf(upstream));
    const withoutKey: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      headers.delete("authorization");
      return fetch(url, { ...init, headers });
    };
    const { client } = await platform.connect("bl-public", "remote", "none", { lane: "stateless", fetch: withoutKey, capabilities: { sampling: {} } });
    const declared = JSON.parse(textOf(await client.callTool({ name: "client_capabilities", arguments: {} })));
    expect(declared.sampling).toBeUndefined();
    await expect(client.callTool({ name: "sample", arguments: {} })).rejects.toThrow(/cannot bridge into an input round for an anonymous caller/);
    await client.close();
  });

  it("upstream:2025-input-bridge — a parked upstream call does not outlive SMCP's upstream object: after a restart the retry gets an error that says the upstream call was lost", async () => {
    const { client } = await answeringClient();
    const round = (await client.callTool({ name: "elicit", arguments: {} }, { allowInputRequired: true })) as unknown as { inputRequests: Record<string, unknown>; requestState: string };
    const key = Object.keys(round.inputRequests)[0]!;
    await platform.stop();
    await platform.start();
    await expect(
      client.callTool({ name: "elicit", arguments: {}, inputResponses: { [key]: { action: "accept", content: { name: "Lin" } } }, requestState: round.requestState } as never),
    ).rejects.toThrow(/upstream call it stood for is lost/);
    // Sent again from the start, the call runs its rounds on a new upstream session.
    expect(textOf(await client.callTool({ name: "elicit", arguments: {} }))).toBe('accept: {"name":"Ada"}');
    await client.close();
  }, 120_000);
});
