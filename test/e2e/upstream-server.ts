/**
 * A real MCP upstream for the gateway's end-to-end tests: the SDK's own v2 server
 * (`@modelcontextprotocol/server` behind `@modelcontextprotocol/node`'s `toNodeHandler`),
 * one transport per upstream session and no event store, started on loopback by the
 * test (the e2e Platform runs with SMCP_ALLOW_LOOPBACK_EGRESS). It checks the header SMCP
 * was configured with, records every Authorization it sees (and counts sessions opened
 * and closed by DELETE), and can be restarted: a
 * restart forgets its sessions, as a real one would. `/fail` answers 503, `/moved`
 * redirects to another host and `/hang` never answers; `POST /announce` makes every
 * session's server send a tool list change (as an upstream whose tools changed would);
 * `POST /touch?uri=` tells a 2026 upstream's listeners that a resource changed.
 *
 * `startV1Upstream` is a 2025-only upstream: the v1 SDK's (`@modelcontextprotocol/sdk`)
 * Node `StreamableHTTPServerTransport`, one per session, with the same `echo` tool.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer, WebStandardStreamableHTTPServerTransport, acceptedContent, createMcpHandler, inputRequired, isInitializeRequest } from "@modelcontextprotocol/server";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { z } from "zod";

export const UPSTREAM_KEY = "upstream-secret-7f3a";

/** What the upstream saw. */
export const seen = { authorizations: new Set<string>(), keys: [] as string[], initializes: 0, sessionsClosed: 0, protocolVersions: new Set<string>(), clientCapabilities: [] as unknown[], modernCapabilities: [] as unknown[], modernLogLevels: [] as unknown[], initializedClients: [] as string[], closedClients: [] as string[] };

export function createUpstreamServer(): McpServer {
  const server = new McpServer({ name: "e2e-upstream", version: "1.0.0" }, { capabilities: { logging: {} } });
  server.registerTool("echo", { description: "Echoes its text", inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: "text", text: `echo: ${text}` }] }));
  server.registerTool("add", { description: "Adds two numbers", inputSchema: z.object({ a: z.number(), b: z.number() }) }, async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }));
  server.registerTool("progress", { description: "Reports progress, then answers", inputSchema: z.object({}) }, async (_args, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken !== undefined) await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 1, total: 2, message: "half way" } });
    return { content: [{ type: "text", text: "done" }] };
  });
  server.registerTool("sample", { description: "Asks the client to sample", inputSchema: z.object({}) }, async (_args, ctx) => {
    // `send` relates the request to the call (its stream); `requestSampling` (below) uses the standalone stream.
    const sampled = await ctx.mcpReq.send({ method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: "say something" } }], maxTokens: 20 } });
    const content = sampled.content as { type: string; text?: string };
    return { content: [{ type: "text", text: `sampled: ${content.text ?? ""}` }] };
  });
  server.registerTool("sample_standalone", { description: "Asks the client to sample, the SDK's way (on the standalone stream)", inputSchema: z.object({}) }, async (_args, ctx) => {
    const sampled = await ctx.mcpReq.requestSampling({ messages: [{ role: "user", content: { type: "text", text: "say something" } }], maxTokens: 20 });
    return { content: [{ type: "text", text: `sampled: ${(sampled.content as { text?: string }).text ?? ""}` }] };
  });
  server.registerTool("flood", { description: "Sends more notifications about one call than SMCP passes on", inputSchema: z.object({}) }, async (_args, ctx) => {
    for (let i = 0; i < 1_050; i++) await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", data: `line ${i}` } });
    return { content: [{ type: "text", text: "flooded" }] };
  });
  server.registerTool("log", { description: "Logs at info and at error", inputSchema: z.object({}) }, async (_args, ctx) => {
    await ctx.mcpReq.log("info", "an info line");
    await ctx.mcpReq.log("error", "an error line");
    return { content: [{ type: "text", text: "logged" }] };
  });
  return server;
}

/** What the input tools of `createInputServer` saw: each round's `requestState`, by tool. */
export const inputSeen = { rounds: [] as { tool: string; requestState: string | undefined; keys: string[] }[] };

/**
 * The upstream server with tools that ask for the client's input the 2026-07-28 way
 * (the SDK's `inputRequired(...)`; on a 2025 connection the SDK's own shim would ask
 * instead): `approve` asks for an elicitation, then for a sampling (two rounds, each
 * with its `requestState`); `where` asks for the client's roots; `nag` asks forever.
 * Its resource `e2e://note` can be subscribed to.
 */
export function createInputServer(): McpServer {
  const server = createUpstreamServer();
  // A resource clients may subscribe to (`POST /touch?uri=` announces that it changed).
  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.registerResource("note", "e2e://note", { description: "A note that changes" }, async () => ({ contents: [{ uri: "e2e://note", text: "the note" }] }));
  server.registerTool("approve", { description: "Asks whether to publish, then for a summary", inputSchema: z.object({ title: z.string() }) }, async ({ title }, ctx) => {
    const requestState = ctx.mcpReq.requestState<string>();
    inputSeen.rounds.push({ tool: "approve", requestState, keys: Object.keys(ctx.mcpReq.inputResponses ?? {}) });
    if (requestState === undefined) {
      return inputRequired({
        inputRequests: { publish: inputRequired.elicit({ message: `Publish "${title}"?`, requestedSchema: { type: "object", properties: { publish: { type: "boolean" } }, required: ["publish"] } }) },
        requestState: "asked-publish",
      });
    }
    if (requestState === "asked-publish") {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, "publish") as { publish?: boolean } | undefined;
      return inputRequired({
        inputRequests: { summary: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: `Summarize "${title}"` } }], maxTokens: 20 }) },
        requestState: `asked-summary:${answer?.publish === true}`,
      });
    }
    const summary = (ctx.mcpReq.inputResponses?.summary as { content?: { text?: string } } | undefined)?.content?.text ?? "";
    return { content: [{ type: "text", text: `publish=${requestState.split(":")[1]} summary=${summary}` }] };
  });
  server.registerTool("where", { description: "Asks for the client's roots", inputSchema: z.object({}) }, async (_args, ctx) => {
    const roots = ctx.mcpReq.inputResponses?.roots as { roots?: { uri: string }[] } | undefined;
    inputSeen.rounds.push({ tool: "where", requestState: ctx.mcpReq.requestState<string>(), keys: Object.keys(ctx.mcpReq.inputResponses ?? {}) });
    if (!roots) return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    return { content: [{ type: "text", text: (roots.roots ?? []).map((r) => r.uri).join(",") }] };
  });
  server.registerTool("nag", { description: "Asks for input, whatever the answer", inputSchema: z.object({}) }, async (_args, ctx) => {
    inputSeen.rounds.push({ tool: "nag", requestState: ctx.mcpReq.requestState<string>(), keys: Object.keys(ctx.mcpReq.inputResponses ?? {}) });
    return inputRequired({ inputRequests: { again: inputRequired.elicit({ message: "Again?", requestedSchema: { type: "object", properties: { ok: { type: "boolean" } } } }) } });
  });
  return server;
}

export interface UpstreamOptions {
  /** The server each new upstream session gets (default: `createUpstreamServer`). */
  createServer?: () => McpServer;
  /**
   * Answers a message of a known session in the SDK's place (a misbehaving upstream:
   * a broken stream, a message that is not JSON-RPC); undefined lets the SDK answer.
   */
  intercept?: (body: unknown) => Response | undefined;
  /** "2026": the SDK's `createMcpHandler`, 2026-07-28 only (no sessions; 2025 requests refused). Default "2025". */
  era?: "2025" | "2026";
  /** Sees every request first (its headers, for example the `traceparent` SMCP sent). */
  onRequest?: (request: Request) => void;
}

/** One upstream incarnation: its own session map (a restart forgets every session). */
export function startUpstream(port = 0, upstreamOptions: UpstreamOptions = {}): Promise<http.Server> {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const servers = new Set<McpServer>();
  const modern = upstreamOptions.era === "2026" ? createMcpHandler(() => (upstreamOptions.createServer ?? createUpstreamServer)(), { legacy: "reject" }) : null;
  const mcp = toNodeHandler({
    async fetch(request: Request, options?: { parsedBody?: unknown }) {
      upstreamOptions.onRequest?.(request);
      const path = new URL(request.url).pathname;
      if (path === "/fail") return new Response("overloaded", { status: 503 });
      if (path === "/announce") {
        for (const server of servers) if (server.isConnected()) server.sendToolListChanged();
        modern?.notify.toolsChanged();
        return new Response(null, { status: 204 });
      }
      if (path === "/touch") {
        modern?.notify.resourceUpdated(new URL(request.url).searchParams.get("uri") ?? "");
        return new Response(null, { status: 204 });
      }
      const version = request.headers.get("mcp-protocol-version");
      if (version && request.headers.get("mcp-session-id")) seen.protocolVersions.add(version);
      if (path === "/moved") return new Response(null, { status: 307, headers: { location: "http://elsewhere.example.com/mcp" } });
      // Never answers (until the connection is closed): a hung upstream.
      if (path === "/hang") return new Promise<Response>(() => {});
      const authorization = request.headers.get("authorization");
      if (authorization) seen.authorizations.add(authorization);
      const key = request.headers.get("x-upstream-key");
      seen.keys.push(key ?? "");
      if (key !== UPSTREAM_KEY) {
        return new Response(JSON.stringify({ error: "invalid_token" }), {
          status: 401,
          headers: { "content-type": "application/json", "www-authenticate": `Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp"` },
        });
      }
      if (modern) {
        const meta = (options?.parsedBody as { params?: { _meta?: Record<string, unknown> } } | undefined)?.params?._meta;
        if (meta) seen.modernCapabilities.push(meta["io.modelcontextprotocol/clientCapabilities"]);
        if (meta) seen.modernLogLevels.push(meta["io.modelcontextprotocol/logLevel"]);
        return modern.fetch(request, { parsedBody: options?.parsedBody });
      }
      const id = request.headers.get("mcp-session-id");
      const known = id ? sessions.get(id) : undefined;
      const intercepted = known && request.method === "POST" ? upstreamOptions.intercept?.(options?.parsedBody) : undefined;
      if (intercepted) return intercepted;
      if (known) return known.handleRequest(request, { parsedBody: options?.parsedBody });
      if (id || !isInitializeRequest(options?.parsedBody)) {
        return Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: id ? 404 : 400 });
      }
      seen.initializes++;
      seen.clientCapabilities.push((options?.parsedBody as { params?: { capabilities?: unknown } }).params?.capabilities);
      // Which client a session was opened for (SMCP's probe, its listen object, or the name a 2026 client declared).
      const clientName = String((options?.parsedBody as { params?: { clientInfo?: { name?: unknown } } }).params?.clientInfo?.name ?? "");
      seen.initializedClients.push(clientName);
      const fresh = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, fresh),
        onsessionclosed: (sid) => {
          sessions.delete(sid);
          seen.sessionsClosed++;
          seen.closedClients.push(clientName);
        },
      });
      const server = (upstreamOptions.createServer ?? createUpstreamServer)();
      servers.add(server);
      await server.connect(fresh);
      return fresh.handleRequest(request, { parsedBody: options?.parsedBody });
    },
  });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    await mcp(req, res, text ? JSON.parse(text) : undefined);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

export const urlOf = (server: http.Server, path = "/mcp") => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
export const stopUpstream = (s: http.Server) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));

/** A 2025-only upstream: the v1 SDK's Node Streamable HTTP server transport, one per session, no event store. */
export async function startV1Upstream(): Promise<http.Server> {
  const { McpServer: V1McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const { isInitializeRequest: isV1Initialize } = await import("@modelcontextprotocol/sdk/types.js");
  const sessions = new Map<string, InstanceType<typeof StreamableHTTPServerTransport>>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    const id = req.headers["mcp-session-id"];
    const known = typeof id === "string" ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res, body);
    if (id || !isV1Initialize(body)) {
      res.writeHead(id ? 404 : 400, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
      return;
    }
    const transport: InstanceType<typeof StreamableHTTPServerTransport> = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
    const mcp = new V1McpServer({ name: "e2e-upstream-v1", version: "1.0.0" });
    mcp.registerTool("echo", { description: "Echoes its text", inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: "text", text: `v1 echo: ${text}` }] }));
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
