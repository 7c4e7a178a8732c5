/**
 * The seam between a session and what serves it (docs/architecture.md): the session
 * object owns the client side (Streamable HTTP transport, event log, TTL, principal,
 * request log) and connects one backend to its transport, which exchanges JSON-RPC
 * messages with it. Backends: an SDK server in this isolate (built-in, or the module
 * format's proxy: `inProcessBackend`), a relay to a deployed SDK server's instance
 * (sandbox/sdk/relay.ts); the gateway's upstream relay fits the same three calls.
 */
import type { McpServer, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { observeHandlers, replayIntoServer, restoreInitializedSession, type InitializeParams } from "./restore-session";
import { REPLAYED_METHODS, keepReplayState, replayRequests, type ReplayState } from "./replay-state";

export interface SessionBackend {
  connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void>;
  /** A stored session after eviction or restart: its handshake replayed, nothing sent on the wire. */
  restore(transport: WebStandardStreamableHTTPServerTransport, sessionId: string, params: InitializeParams): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether the session may drop this backend when idle and rebuild it on the next
   * request. True only where a rebuild is cheap and exact: a built-in server.
   */
  readonly droppable?: boolean;
}

/** What the client set on the session, kept across rebuilds (stored by the session object in `meta.replay`). */
export interface ReplayKeeper {
  state: ReplayState;
  /** Runs only when the state changed: no storage write per request. */
  save(state: ReplayState): void;
}

/**
 * An SDK server of the platform's, connected straight to the session's transport: no
 * copy, no serialisation. The client's log level and subscriptions are recorded as the
 * server accepts them and handed back to a rebuilt server before its first request.
 * `droppable` for a built-in server only: a deployed module's proxy is rebuilt from
 * the active deployment, which may be a newer version than the session started with.
 */
export function inProcessBackend(mcp: McpServer, { replay, droppable = false }: { replay?: ReplayKeeper; droppable?: boolean } = {}): SessionBackend {
  return {
    droppable,
    connect: async (transport) => {
      await mcp.connect(transport);
      if (replay) {
        observeHandlers(mcp, REPLAYED_METHODS, (method, params) => {
          if (keepReplayState(replay.state, method, params)) replay.save(replay.state);
        });
      }
    },
    restore: async (transport, sessionId, params) => {
      await restoreInitializedSession(mcp, transport, sessionId, params);
      if (replay) await replayIntoServer(mcp, sessionId, replayRequests(replay.state));
    },
    close: () => mcp.close().catch(() => {}),
  };
}
