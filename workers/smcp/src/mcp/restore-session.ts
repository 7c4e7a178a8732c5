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
