/**
 * The session backend of a deployed SDK server: relays JSON-RPC messages between the
 * session's client transport (Streamable HTTP, event log, resumability: all the
 * session object's) and the server's instance in its sandbox.
 *
 * What the relay adds to a plain pipe, because the other end is untrusted and mortal:
 * - every client request it passes on is tracked; one the server does not answer in
 *   time (or at all, because its instance ended) is answered here with an error that
 *   says so: nothing is left hanging;
 * - answers are checked against the request they answer: an answer to nothing is
 *   dropped, and a result that is not the MCP shape its method needs becomes an error;
 * - protocol state the client set (log level, resource subscriptions) is kept, so that
 *   a rebuilt instance (after eviction, restart or crash) gets `initialize` and that
 *   state replayed before the client's next message, and the client notices nothing.
 * What the server's start sends at that point (a log line, a `roots/list` request) is
 * passed on to the client as it would have been the first time.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  isSpecType,
  type JSONRPCMessage,
  type RequestId,
} from "@modelcontextprotocol/server";
import type { InitializeParams } from "../../mcp/restore-session";
import { ClientSideRelay } from "../../mcp/client-side-relay";
import { keepReplayState, replayRequests, type ReplayState } from "../../mcp/replay-state";
import type { SandboxInstance, InstanceEvents } from "./instance";
import { sandboxCall, type ClientCall } from "../../tracing/client-span";

export type { ReplayState };

export interface RelayOptions {
  server: string;
  version: number;
  /** Starts a fresh instance wired to `events`. */
  start(events: InstanceEvents): Promise<SandboxInstance>;
  /** How long a request may wait for its answer; any message of the server about it restarts the wait. */
  callTimeoutMs: number;
  state: ReplayState;
  /** The replay state changed (kept by the session). */
  saveState(state: ReplayState): void;
  console(level: string, line: string): void;
  /** The server failed to start for the session's `initialize`: the session should end (after that answer). */
  startFailed?(): void;
  /** Told about each answered client request (for the server's call and error counts). */
  record(method: string, error?: { kind: string; message: string }): void;
}

interface Pending {
  method: string;
  params: unknown;
  timer: ReturnType<typeof setTimeout>;
  /** Its CLIENT span (tracing/client-span.ts), ended with the answer. */
  call?: ClientCall;
}

const REPLAY_PREFIX = "smcp-replay-";

/** Which MCP result each method must answer with. */
const RESULT_CHECKS: Record<string, (v: unknown) => boolean> = {
  initialize: isSpecType.InitializeResult,
  "tools/list": isSpecType.ListToolsResult,
  "tools/call": isSpecType.CallToolResult,
  "resources/list": isSpecType.ListResourcesResult,
  "resources/templates/list": isSpecType.ListResourceTemplatesResult,
  "resources/read": isSpecType.ReadResourceResult,
  "prompts/list": isSpecType.ListPromptsResult,
  "prompts/get": isSpecType.GetPromptResult,
  "completion/complete": isSpecType.CompleteResult,
};

export class SandboxRelay extends ClientSideRelay {
  readonly #opts: RelayOptions;
  #instance: SandboxInstance | undefined;
  #starting: Promise<SandboxInstance> | undefined;
  #pending = new Map<RequestId, Pending>();
  #replaying = new Set<RequestId>();
  #replaySeq = 0;
  #closed = false;

  constructor(opts: RelayOptions) {
    super();
    this.#opts = opts;
  }



  async close(): Promise<void> {
    this.#closed = true;
    this.#instance?.close();
    for (const [id, p] of this.#pending) clearTimeout(p.timer), this.#pending.delete(id);
  }

  protected async fromClient(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return;
    if (isJSONRPCRequest(message)) {
      if (message.method === "initialize") this.initParams = message.params as InitializeParams;
      const call = sandboxCall(message, this.#opts.server, this.#opts.version);
      this.#track(message.id, message.method, message.params, call);
      message = call.message;
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (pending) clearTimeout(pending.timer), this.#pending.delete(id!), pending.call?.end({ errorType: "cancelled" });
    }
    let instance: SandboxInstance;
    try {
      instance = await this.#ensureInstance(isJSONRPCRequest(message) && message.method === "initialize");
    } catch (err) {
      if (isJSONRPCRequest(message)) this.#fail(message.id, `failed to start: ${(err as Error).message}`, "start");
      // A session whose server never started would hold an instance slot until its TTL.
      if (isJSONRPCRequest(message) && message.method === "initialize") this.#opts.startFailed?.();
      return;
    }
    instance.send(message);
  }

  #ensureInstance(fresh: boolean): Promise<SandboxInstance> {
    if (this.#instance && !this.#instance.ended) return Promise.resolve(this.#instance);
    this.#starting ??= (async () => {
      const instance = await this.#opts.start({
        message: (m, related) => this.#fromServer(m, related),
        console: (level, line) => this.#opts.console(level, line),
        ended: (reason) => this.#ended(instance, reason),
      });
      this.#instance = instance;
      if (!fresh && this.initParams) this.#replay(instance, this.initParams);
      return instance;
    })().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** The handshake and the client's protocol state, into a new instance; their answers stay here. */
  #replay(instance: SandboxInstance, params: InitializeParams): void {
    const request = (method: string, p: unknown) => {
      const id = `${REPLAY_PREFIX}${++this.#replaySeq}`;
      this.#replaying.add(id);
      instance.send({ jsonrpc: "2.0", id, method, params: p as Record<string, unknown> });
    };
    request("initialize", params);
    instance.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    for (const { method, params: p } of replayRequests(this.#opts.state)) request(method, p);
  }

  #fromServer(message: JSONRPCMessage, related: RequestId | null): void {
    if (this.#closed || !this.transport) return;
    if (isJSONRPCResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id as RequestId;
      if (this.#replaying.delete(id)) return;
      const pending = this.#pending.get(id);
      if (!pending) {
        this.#opts.console("warning", `SMCP dropped an answer of the server to request ${String(id).slice(0, 64)}, which is not waiting for one`);
        return;
      }
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.call?.end(pending.call.answered(message) ?? {});
      if (isJSONRPCErrorResponse(message)) {
        this.#opts.record(pending.method, { kind: "error", message: `${pending.method}: ${message.error.message}`.slice(0, 500) });
        void this.toClient(message);
        return;
      }
      const check = RESULT_CHECKS[pending.method];
      if (check && !check((message as { result: unknown }).result)) {
        this.#fail(id, `answered ${pending.method} with a value that is not a valid MCP result`, "invalid-result");
        return;
      }
      this.#keepState(pending);
      const isError = pending.method === "tools/call" && (message as { result: { isError?: boolean } }).result.isError === true;
      this.#opts.record(pending.method, isError ? { kind: "tenant", message: "tools/call returned isError" } : undefined);
      void this.toClient(message);
      return;
    }
    // A request or notification of the server: on the stream of the client request it belongs to, if that still waits.
    const waiting = related !== null && this.#pending.has(related);
    if (waiting) this.#rearm(related!);
    void this.toClient(message, waiting ? related! : undefined);
  }

  /** A successful setLevel, subscribe or unsubscribe: the state a rebuilt instance must be told again. */
  #keepState(pending: Pending): void {
    if (keepReplayState(this.#opts.state, pending.method, pending.params)) this.#opts.saveState(this.#opts.state);
  }

  #track(id: RequestId, method: string, params: unknown, call?: ClientCall): void {
    const timer = setTimeout(() => this.#fail(id, `did not answer ${method} within ${this.#opts.callTimeoutMs / 1000} s`, "timeout"), this.#opts.callTimeoutMs);
    this.#pending.set(id, { method, params, timer, ...(call ? { call } : {}) });
  }

  #rearm(id: RequestId): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#track(id, pending.method, pending.params, pending.call);
  }

  /** Answers a client request with an error in the server's place. */
  #fail(id: RequestId, what: string, kind: string): void {
    const pending = this.#pending.get(id);
    if (pending) clearTimeout(pending.timer), this.#pending.delete(id);
    pending?.call?.end({ errorType: kind });
    const method = pending?.method ?? "the request";
    const message = `Deployed server ${this.#opts.server} (v${this.#opts.version}) ${what}`;
    this.#opts.record(method, { kind, message });
    void this.toClient({ jsonrpc: "2.0", id, error: { code: -32603, message } });
  }

  #ended(instance: SandboxInstance, reason: string): void {
    if (this.#instance === instance) this.#instance = undefined;
    this.#replaying.clear();
    this.#opts.console("warning", `SMCP: the server's instance ended: ${reason}`);
    // Whatever it was still working on is lost with it: each waiting request gets its error now.
    for (const id of [...this.#pending.keys()]) this.#fail(id, `stopped before answering: ${reason}`, "crash");
  }
}
