/**
 * Peer: the official MCP TypeScript SDK (v2) on Node 22, as its docs compose it.
 *
 * `node:http` -> `toNodeHandler` (@modelcontextprotocol/node) -> `isLegacyRequest`
 * picks the lane: 2025 session traffic goes to one `WebStandardStreamableHTTPServerTransport`
 * per session (kept in a Map, with an in-memory event store so `Last-Event-ID` works),
 * 2026-07-28 traffic to `createMcpHandler` with a fresh server per request. Notes live
 * in one node:sqlite file (WAL), shared by all sessions as SMCP's tenant notes are.
 * No authentication: SMCP's key check is part of what the ratio measures.
 *
 * Usage: node server.mjs --port 8790 --db /tmp/notes.sqlite   (GET /healthz answers once ready)
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { McpServer, WebStandardStreamableHTTPServerTransport, createMcpHandler, isInitializeRequest, isLegacyRequest } from "@modelcontextprotocol/server";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { NOTES_SQL, registerBenchTools, toRecords } from "../tools.mjs";
import { MemoryEventStore } from "./event-store.mjs";

const { values } = parseArgs({ options: { port: { type: "string" }, db: { type: "string" } } });

const db = new DatabaseSync(values.db ?? ":memory:");
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
db.exec(NOTES_SQL.schema);
const insert = db.prepare(NOTES_SQL.put);
const search = db.prepare(NOTES_SQL.search);
const notes = {
  put: (id, valueJson) => insert.run(id, valueJson, Date.now()),
  search: (query, limit) => toRecords(search.all(query, limit)),
};

function createServer() {
  const server = new McpServer({ name: "bench-node-peer", version: "1.0.0" });
  registerBenchTools(server, notes);
  return server;
}

/** Session lane: the SDK's stateful pattern, one transport per session id. */
const sessions = new Map();
async function serveSession(request, parsedBody) {
  const id = request.headers.get("mcp-session-id");
  const transport = id ? sessions.get(id) : undefined;
  if (transport) return transport.handleRequest(request, { parsedBody });
  if (id || !isInitializeRequest(parsedBody)) {
    return Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: id ? 404 : 400 });
  }
  const fresh = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new MemoryEventStore(),
    onsessioninitialized: (sid) => sessions.set(sid, fresh),
    onsessionclosed: (sid) => sessions.delete(sid),
  });
  await createServer().connect(fresh);
  return fresh.handleRequest(request, { parsedBody });
}

const modern = createMcpHandler(() => createServer(), { legacy: "reject" });
const mcp = toNodeHandler({
  async fetch(request, options) {
    return (await isLegacyRequest(request, options?.parsedBody))
      ? serveSession(request, options?.parsedBody)
      : modern.fetch(request, options);
  },
});

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

/**
 * `toNodeHandler` writes the status and headers but Node sends them with the first
 * body bytes; an SSE stream with nothing to say yet (the standalone GET) would leave
 * the client waiting for the SDK's keep-alive. Flush event-stream headers at once,
 * as SMCP and McpAgent do.
 */
function flushStreamHeaders(res) {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, headers) => {
    writeHead(status, headers);
    if (String(headers?.["content-type"] ?? "").startsWith("text/event-stream")) res.flushHeaders();
    return res;
  };
}

const server = http.createServer(async (req, res) => {
  if (req.url === "/healthz") return res.end('{"ok":true}');
  if (!req.url?.startsWith("/mcp")) return res.writeHead(404).end();
  flushStreamHeaders(res);
  try {
    await mcp(req, res, req.method === "POST" ? await readJson(req) : undefined);
  } catch (err) {
    if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: String(err?.message ?? err) }, id: null }));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port ?? 8790), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
