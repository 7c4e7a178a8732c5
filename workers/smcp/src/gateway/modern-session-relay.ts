/**
 * The session backend of an upstream that serves 2026-07-28 only: a 2025 client keeps
 * its SMCP session (transport, event log, resumability: the session object's), and
 * SMCP turns each of its requests into a stateless 2026 request upstream, with what
 * that revision requires of every request: the `_meta` envelope (revision, the
 * capabilities and client info the client declared in its `initialize`, its log level)
 * and the per-request headers (modern-upstream.ts). Nothing upstream is per session, so
 * a restart of the session object needs no re-initialization.
 *
 * - `initialize` is answered from the upstream's `server/discover`;
 *   `logging/setLevel` is kept (and sent in each envelope); `ping` is answered here.
 * - A result loses the 2026-only `resultType`; an `input_required` result (the 2026
 *   way to ask the client for sampling, elicitation or roots in the middle of a call)
 *   is not bridged to the 2025 client's requests yet: the call ends with an error that
 *   says so.
 * - `notifications/cancelled` aborts the upstream request.
 * - While the session is open, one `subscriptions/listen` is held upstream for the
 *   lists the upstream says can change; its list changes go to the client's standalone
 *   stream. A listen that ends is opened again after a pause, a few times in a row at most.
 */
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse, SERVER_INFO_META_KEY } from "@modelcontextprotocol/server";
import { ClientSideRelay } from "../mcp/client-side-relay";
import type { InitializeParams } from "../mcp/restore-session";
import type { ReplayState } from "../sandbox/sdk/relay";
import { exchangeModern, MODERN, notifyModern, type ModernUpstream } from "./modern-upstream";

export interface ModernSessionRelayOptions {
  upstream: ModernUpstream;
  state: ReplayState;
  saveState(state: ReplayState): void;
  /** The client's `initialize` got an error in the upstream's place: the session should end (after that answer). */
  initializeFailed?(): void;
}

/** The revision a 2025 client is answered with when it asks for one SMCP's session lane does not serve. */
const SESSION_REVISION = "2025-11-25";
const SESSION_REVISIONS = new Set(["2025-03-26", "2025-06-18", "2025-11-25"]);
const LIST_CHANGES = new Set(["notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed"]);
const LISTEN_RETRIES = 5;
const LISTEN_PAUSE_MS = 1_000;

type ListFilter = { toolsListChanged?: true; promptsListChanged?: true; resourcesListChanged?: true };

/** The lists whose changes a 2026 server's capabilities say it announces. */
function listFilter(capabilities: unknown): ListFilter {
  const caps = (capabilities ?? {}) as Record<string, { listChanged?: unknown } | undefined>;
  return {
    ...(caps.tools?.listChanged ? { toolsListChanged: true as const } : {}),
    ...(caps.prompts?.listChanged ? { promptsListChanged: true as const } : {}),
    ...(caps.resources?.listChanged ? { resourcesListChanged: true as const } : {}),
  };
}

export class ModernSessionRelay extends ClientSideRelay {
  readonly #opts: ModernSessionRelayOptions;
  readonly #pending = new Map<RequestId, AbortController>();
  #closed = false;
  #listening: AbortController | undefined;
  #listenSeq = 0;

  constructor(opts: ModernSessionRelayOptions) {
    super();
    this.#opts = opts;
  }

  override async restore(...args: Parameters<ClientSideRelay["restore"]>): Promise<void> {
    await super.restore(...args);
    // What the upstream announces is not kept: after a restart, every list is asked for (an upstream ignores what it does not announce).
    this.#listen({ toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening?.abort();
    for (const abort of this.#pending.values()) abort.abort();
    this.#pending.clear();
  }

  protected async fromClient(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return;
    if (isJSONRPCNotification(message)) {
      if (message.method === "notifications/cancelled") {
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (id !== undefined) this.#pending.get(id)?.abort();
        return;
      }
      // The 2025 handshake's and roots' notifications have no 2026 counterpart upstream.
      if (message.method === "notifications/initialized" || message.method === "notifications/roots/list_changed") return;
      void notifyModern(this.#opts.upstream, this.#enveloped(message), AbortSignal.timeout(this.#opts.upstream.callTimeoutMs)).catch(() => {});
      return;
    }
    if (!isJSONRPCRequest(message)) return; // no request of the upstream reaches the client, so no answer is expected
    if (message.method === "ping") return void this.#send({ jsonrpc: "2.0", id: message.id, result: {} });
    if (message.method === "logging/setLevel") {
      const level = (message.params as { level?: unknown } | undefined)?.level;
      if (typeof level === "string") {
        this.#opts.state.logLevel = level.slice(0, 32);
        this.#opts.saveState(this.#opts.state);
      }
      return void this.#send({ jsonrpc: "2.0", id: message.id, result: {} });
    }
    if (message.method === "initialize") {
      this.initParams = message.params as InitializeParams;
      await this.#initialize(message.id);
      return;
    }
    void this.#call(message);
  }

  async #initialize(id: RequestId): Promise<void> {
    const answer = await exchangeModern(this.#opts.upstream, this.#enveloped({ jsonrpc: "2.0", id, method: "server/discover", params: {} }) as never, AbortSignal.timeout(this.#opts.upstream.callTimeoutMs), () => {});
    if (!isJSONRPCResponse(answer) || isJSONRPCErrorResponse(answer)) {
      await this.#send(answer);
      this.#opts.initializeFailed?.();
      return;
    }
    const result = ((answer as { result?: unknown }).result ?? {}) as { capabilities?: unknown; instructions?: unknown; _meta?: Record<string, unknown> };
    const info = result._meta?.[SERVER_INFO_META_KEY] as { name?: unknown; version?: unknown } | undefined;
    const requested = (this.initParams as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    await this.#send({
      jsonrpc: "2.0",
      id,
      result: {
        protocolVersion: typeof requested === "string" && SESSION_REVISIONS.has(requested) ? requested : SESSION_REVISION,
        capabilities: typeof result.capabilities === "object" && result.capabilities !== null ? result.capabilities : {},
        serverInfo: {
          name: typeof info?.name === "string" ? info.name.slice(0, 200) : this.#opts.upstream.server,
          version: typeof info?.version === "string" ? info.version.slice(0, 64) : "upstream",
        },
        ...(typeof result.instructions === "string" ? { instructions: result.instructions.slice(0, 16_384) } : {}),
      },
    });
    this.#listen(listFilter(result.capabilities));
  }

  /** Holds one upstream listen for `filter` while the session is open. */
  #listen(filter: ListFilter): void {
    this.#listening?.abort();
    if (Object.keys(filter).length === 0) return;
    const abort = new AbortController();
    this.#listening = abort;
    void (async () => {
      for (let failures = 0; failures < LISTEN_RETRIES && !abort.signal.aborted && !this.#closed; ) {
        let delivered = false;
        const request = this.#enveloped({ jsonrpc: "2.0", id: `smcp-listen-${++this.#listenSeq}`, method: "subscriptions/listen", params: { notifications: filter } });
        await exchangeModern(this.#opts.upstream, request as never, abort.signal, (m) => {
          if (!isJSONRPCNotification(m) || !LIST_CHANGES.has(m.method)) return;
          delivered = true;
          return this.#send(m);
        }).catch(() => {});
        failures = delivered ? 0 : failures + 1;
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, LISTEN_PAUSE_MS));
      }
    })();
  }

  async #call(request: JSONRPCMessage & { id: RequestId; method: string }): Promise<void> {
    const abort = new AbortController();
    this.#pending.set(request.id, abort);
    try {
      const answer = await exchangeModern(this.#opts.upstream, this.#enveloped(request) as typeof request, abort.signal, (m) => {
        if (isJSONRPCNotification(m)) return this.#send(m, request.id);
      });
      if (abort.signal.aborted) return; // cancelled: the client expects no answer
      await this.#send(asLegacyAnswer(answer, request.method, this.#opts.upstream.server));
    } finally {
      this.#pending.delete(request.id);
    }
  }

  /** `message` with the 2026 envelope: the revision, what the client declared, its log level. */
  #enveloped(message: JSONRPCMessage & { method: string }): JSONRPCMessage {
    const params = ((message as { params?: Record<string, unknown> }).params ?? {}) as Record<string, unknown>;
    const init = (this.initParams ?? {}) as { capabilities?: unknown; clientInfo?: unknown };
    const meta: Record<string, unknown> = {
      ...((params._meta as Record<string, unknown> | undefined) ?? {}),
      "io.modelcontextprotocol/protocolVersion": MODERN,
      "io.modelcontextprotocol/clientCapabilities": init.capabilities ?? {},
      "io.modelcontextprotocol/clientInfo": init.clientInfo ?? { name: "smcp-session-client", version: "0" },
      ...(this.#opts.state.logLevel ? { "io.modelcontextprotocol/logLevel": this.#opts.state.logLevel } : {}),
    };
    return { ...message, params: { ...params, _meta: meta } } as JSONRPCMessage;
  }

  async #send(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    if (this.#closed || !this.transport) return;
    try {
      await this.transport.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId });
    } catch {
      // The client's stream for it is gone.
    }
  }
}

/** A 2026 answer as a 2025 client takes it. */
function asLegacyAnswer(answer: JSONRPCMessage, method: string, server: string): JSONRPCMessage {
  if (!isJSONRPCResponse(answer) || isJSONRPCErrorResponse(answer)) return answer;
  const { resultType, ...result } = ((answer as { result?: Record<string, unknown> }).result ?? {}) as Record<string, unknown>;
  const id = (answer as { id: RequestId }).id;
  if (resultType === "input_required") {
    return {
      jsonrpc: "2.0",
      id,
      error: { code: -32603, message: `Upstream ${server} asked for the client's input during ${method} (a 2026 input-required result); SMCP does not bridge that to a 2025 session yet: connect with protocol revision 2026-07-28`, data: { upstream: server } },
    };
  }
  return { jsonrpc: "2.0", id, result };
}
