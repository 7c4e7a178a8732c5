/**
 * The gateway figure's upstream: the official SDK v2 on Node, session lane only, one
 * transport per session and no event store (as a plain remote MCP server runs), its
 * one tool the static `test_simple_text` of ../deployed/static-text.mjs. The bench
 * calls it directly and through SMCP (an upstream server of the bench tenant), so the
 * two figures differ only by the gateway.
 *
 * Usage: node server.mjs --port 8791   (GET /healthz answers once ready; MCP at /mcp)
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { parseArgs } from "node:util";
import { WebStandardStreamableHTTPServerTransport, isInitializeRequest } from "@modelcontextprotocol/server";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createServer } from "../deployed/static-text.mjs";

const { values } = parseArgs({ options: { port: { type: "string" } } });

const sessions = new Map();
const mcp = toNodeHandler({
  async fetch(request, options) {
    const parsedBody = options?.parsedBody;
    const id = request.headers.get("mcp-session-id");
    const known = id ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(request, { parsedBody });
    if (id || !isInitializeRequest(parsedBody)) {
      return Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: id ? 404 : 400 });
    }
    const fresh = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => sessions.set(sid, fresh),
      onsessionclosed: (sid) => sessions.delete(sid),
    });
    await createServer().connect(fresh);
    return fresh.handleRequest(request, { parsedBody });
  },
});

const server = http.createServer(async (req, res) => {
  if (req.url === "/healthz") return res.end('{"ok":true}');
  if (!req.url?.startsWith("/mcp")) return res.writeHead(404).end();
  // Node sends headers with the first body bytes: an event stream with nothing to say yet (the standalone GET) would wait.
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, headers) => {
    writeHead(status, headers);
    if (String(headers?.["content-type"] ?? "").startsWith("text/event-stream")) res.flushHeaders();
    return res;
  };
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    await mcp(req, res, text ? JSON.parse(text) : undefined);
  } catch (err) {
    if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: String(err?.message ?? err) }, id: null }));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port ?? 8791), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
