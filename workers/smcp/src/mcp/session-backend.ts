/**
 * The seam between a session and what serves it (docs/architecture.md): the session
 * object owns the client side (Streamable HTTP transport, event log, TTL, principal,
 * request log) and connects one backend to its transport, which exchanges JSON-RPC
 * messages with it. Backends: an SDK server in this isolate (built-in, or the module
 * format's proxy: `inProcessBackend`), a relay to a deployed SDK server's instance
 * (sandbox/sdk/relay.ts); the gateway's upstream relay fits the same three calls.
 */
import type { McpServer, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { restoreInitializedSession, type InitializeParams } from "./restore-session";

export interface SessionBackend {
  connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void>;
  /** A stored session after eviction or restart: its handshake replayed, nothing sent on the wire. */
  restore(transport: WebStandardStreamableHTTPServerTransport, sessionId: string, params: InitializeParams): Promise<void>;
  close(): Promise<void>;
}

/** An SDK server of the platform's, connected straight to the session's transport: no copy, no serialisation. */
export function inProcessBackend(mcp: McpServer): SessionBackend {
  return {
    connect: (transport) => mcp.connect(transport),
    restore: (transport, sessionId, params) => restoreInitializedSession(mcp, transport, sessionId, params),
    close: () => mcp.close().catch(() => {}),
  };
}
