/**
 * Bringing an SDK session back after the Durable Object was evicted or restarted.
 *
 * The SDK's `WebStandardStreamableHTTPServerTransport` and `Server` keep "this session
 * was initialized" only in memory; a fresh instance answers 400 "Server not
 * initialized". Everything they need is in our SQLite: the session id and the
 * client's `initialize` params. This module replays the handshake into fresh
 * instances without sending anything on the wire. It touches SDK internals, so it is
 * kept in this one place and the end-to-end restart test guards it against SDK
 * upgrades.
 */
import type { McpServer, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";

export interface InitializeParams {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface TransportInternals {
  sessionId?: string;
  _initialized: boolean;
}

interface ServerInternals {
  _oninitialize(request: { method: "initialize"; params: InitializeParams }): Promise<unknown>;
}

export async function restoreInitializedSession(
  mcp: McpServer,
  transport: WebStandardStreamableHTTPServerTransport,
  sessionId: string,
  params: InitializeParams,
): Promise<void> {
  restoreInitializedTransport(transport, sessionId);
  await (mcp.server as unknown as ServerInternals)._oninitialize({ method: "initialize", params });
}

/** The client requests a stream of the transport was opened to answer (its internal request-to-stream map). */
export function requestsOnStream(transport: WebStandardStreamableHTTPServerTransport, streamId: string): (string | number)[] {
  const map = (transport as unknown as { _requestToStreamMapping?: Map<string | number, string> })._requestToStreamMapping;
  return map ? [...map].filter(([, s]) => s === streamId).map(([id]) => id) : [];
}

/** The transport half alone: for a backend that is not an SDK server here (a relay replays the handshake itself). */
export function restoreInitializedTransport(transport: WebStandardStreamableHTTPServerTransport, sessionId: string): void {
  const t = transport as unknown as TransportInternals;
  t.sessionId = sessionId;
  t._initialized = true;
}

type RequestHandler = (request: { jsonrpc: "2.0"; id: string; method: string; params: Record<string, unknown> }, ctx: unknown) => Promise<unknown>;

function requestHandlers(mcp: McpServer): Map<string, RequestHandler> {
  return (mcp.server as unknown as { _requestHandlers: Map<string, RequestHandler> })._requestHandlers;
}

/**
 * Wraps the server's handlers of `methods` so that each request they answer with
 * success is reported to `succeeded`, after the handler ran (what it refused is not).
 */
export function observeHandlers(mcp: McpServer, methods: readonly string[], succeeded: (method: string, params: unknown) => void): void {
  const handlers = requestHandlers(mcp);
  for (const method of methods) {
    const handler = handlers.get(method);
    if (!handler) continue;
    handlers.set(method, async (request, ctx) => {
      const result = await handler(request, ctx);
      succeeded(method, request.params);
      return result;
    });
  }
}

/**
 * Requests the client sent to an earlier instance (its log level, its subscriptions),
 * handed straight to a rebuilt server's handlers: the server's state is as the client
 * left it, and nothing goes on the wire (no answer, no notification).
 */
export async function replayIntoServer(mcp: McpServer, sessionId: string, requests: { method: string; params: Record<string, unknown> }[]): Promise<void> {
  const handlers = requestHandlers(mcp);
  let seq = 0;
  for (const { method, params } of requests) {
    const handler = handlers.get(method);
    if (!handler) continue;
    const id = `smcp-replay-${++seq}`;
    const ctx = {
      sessionId,
      mcpReq: { id, method, signal: new AbortController().signal, notify: async () => {}, send: async () => ({}) },
    };
    await handler({ jsonrpc: "2.0", id, method, params }, ctx).catch(() => {});
  }
}
