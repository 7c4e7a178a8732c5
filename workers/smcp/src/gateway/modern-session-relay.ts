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
 * - A result loses the 2026-only `resultType`. An `input_required` result (the 2026
 *   way to ask the client for sampling, elicitation or roots in the middle of a call)
 *   becomes 2025 server-to-client requests related to the call (so they ride its
 *   stream); their answers go back upstream as `inputResponses`, with the upstream's
 *   `requestState`, in a new request, until a final result, at most MAX_INPUT_ROUNDS
 *   rounds (session-input.ts). A client that did not declare what an input needs gets
 *   the call ended with an error naming it.
 * - `notifications/cancelled` aborts the upstream request and withdraws the input
 *   requests the call has open at the client.
 * - While the session is open, one `subscriptions/listen` is held upstream for the
 *   lists the upstream says can change and the resources the client subscribed to
 *   (`resources/subscribe` and `unsubscribe` are answered here, kept in the session's
 *   replay state, and change the listen's `resourceSubscriptions`: the listen is opened
 *   again with the new filter); its list changes and `notifications/resources/updated`
 *   go to the client's standalone stream. A listen that ends is opened again after a
 *   pause, a few times in a row at most.
 */
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse, SERVER_INFO_META_KEY } from "@modelcontextprotocol/server";
import { ClientSideRelay } from "../mcp/client-side-relay";
import type { InitializeParams } from "../mcp/restore-session";
import { MAX_SUBSCRIPTIONS, type ReplayState } from "../mcp/replay-state";
import { exchangeModern, MODERN, notifyModern, type ModernUpstream } from "./modern-upstream";
import { legacyParams, MAX_INPUT_ROUNDS, missingCapability, readInputRequired, type InputRequest } from "./session-input";

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
const LISTENED = new Set(["notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed", "notifications/resources/updated"]);
/** As the 2025 relay bounds what a session keeps (relay.ts). */
const MAX_URI_CHARS = 2_048;
const LISTEN_RETRIES = 5;
const LISTEN_PAUSE_MS = 1_000;
/** How long the client has to answer one input request (a person may be answering an elicitation). */
const INPUT_WAIT_MS = 300_000;
const INPUT_PREFIX = "smcp-input-";

class InputFailed extends Error {}

type ListFilter = { toolsListChanged?: true; promptsListChanged?: true; resourcesListChanged?: true };
const EVERY_LIST: ListFilter = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };

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
  /** The lists the upstream announces changes of (what the listen asks for, with the client's subscriptions). */
  #lists: ListFilter = {};
  /** SMCP's own requests to the client (input an upstream asked for), by id: each waits for its answer. */
  readonly #asked = new Map<RequestId, (answer: JSONRPCMessage) => void>();
  #askSeq = 0;

  constructor(opts: ModernSessionRelayOptions) {
    super();
    this.#opts = opts;
  }

  override async restore(...args: Parameters<ClientSideRelay["restore"]>): Promise<void> {
    await super.restore(...args);
    // What the upstream announces is not kept: after a restart, every list is asked for (an upstream ignores what it does not announce).
    this.#lists = EVERY_LIST;
    this.#listen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening?.abort();
    for (const abort of this.#pending.values()) abort.abort();
    this.#pending.clear();
    this.#asked.clear();
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
    if (!isJSONRPCRequest(message)) {
      // An answer only SMCP's own input requests wait for; any other is dropped.
      const id = (message as { id?: RequestId }).id;
      if ((isJSONRPCResponse(message) || isJSONRPCErrorResponse(message)) && id !== undefined) this.#asked.get(id)?.(message);
      return;
    }
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
    if (message.method === "resources/subscribe" || message.method === "resources/unsubscribe") return this.#subscribe(message);
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
    this.#lists = listFilter(result.capabilities);
    this.#listen();
  }

  /** A `resources/subscribe` or `unsubscribe`: kept here, and carried by the upstream listen's filter. */
  async #subscribe(request: JSONRPCMessage & { id: RequestId; method: string }): Promise<void> {
    const uri = (request as { params?: { uri?: unknown } }).params?.uri;
    if (typeof uri !== "string" || uri.length === 0 || uri.length > MAX_URI_CHARS) {
      return this.#send({ jsonrpc: "2.0", id: request.id, error: { code: -32602, message: `${request.method} needs a uri of at most ${MAX_URI_CHARS} characters` } });
    }
    const subs = new Set(this.#opts.state.subscriptions ?? []);
    if (request.method === "resources/subscribe") {
      if (!subs.has(uri) && subs.size >= MAX_SUBSCRIPTIONS) {
        return this.#send({ jsonrpc: "2.0", id: request.id, error: { code: -32602, message: `A session may subscribe to at most ${MAX_SUBSCRIPTIONS} resources; unsubscribe from one first` } });
      }
      subs.add(uri);
    } else subs.delete(uri);
    this.#opts.state.subscriptions = [...subs];
    this.#opts.saveState(this.#opts.state);
    // The old listen ends before the answer: once answered, an unsubscribed resource is not heard of again.
    this.#listen();
    await this.#send({ jsonrpc: "2.0", id: request.id, result: {} });
  }

  /** Holds one upstream listen while the session is open, for the lists it announces and the client's subscriptions. */
  #listen(): void {
    this.#listening?.abort();
    const subscriptions = this.#opts.state.subscriptions ?? [];
    const filter = { ...this.#lists, ...(subscriptions.length > 0 ? { resourceSubscriptions: [...subscriptions] } : {}) };
    if (Object.keys(filter).length === 0) return;
    const abort = new AbortController();
    this.#listening = abort;
    void (async () => {
      for (let failures = 0; failures < LISTEN_RETRIES && !abort.signal.aborted && !this.#closed; ) {
        let delivered = false;
        const request = this.#enveloped({ jsonrpc: "2.0", id: `smcp-listen-${++this.#listenSeq}`, method: "subscriptions/listen", params: { notifications: filter } });
        await exchangeModern(this.#opts.upstream, request as never, abort.signal, (m) => {
          if (!isJSONRPCNotification(m) || !LISTENED.has(m.method)) return;
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
      let upstreamRequest = request;
      for (let round = 0; ; round++) {
        const answer = await exchangeModern(this.#opts.upstream, this.#enveloped(upstreamRequest) as typeof request, abort.signal, (m) => {
          if (isJSONRPCNotification(m)) return this.#send(m, request.id);
        });
        if (abort.signal.aborted) return; // cancelled: the client expects no answer
        const result = isJSONRPCResponse(answer) && !isJSONRPCErrorResponse(answer) ? ((answer as { result?: Record<string, unknown> }).result ?? {}) : null;
        if (result?.resultType !== "input_required") {
          await this.#send(asLegacyAnswer({ ...answer, id: request.id } as JSONRPCMessage));
          return;
        }
        const fail = (why: string, data: Record<string, unknown> = {}) =>
          this.#send({ jsonrpc: "2.0", id: request.id, error: { code: -32603, message: `Upstream ${this.#opts.upstream.server} asked for the client's input during ${request.method}, ${why}`, data: { upstream: this.#opts.upstream.server, ...data } } });
        if (round + 1 > MAX_INPUT_ROUNDS) return void (await fail(`more than ${MAX_INPUT_ROUNDS} times; SMCP ended the call`));
        const read = readInputRequired(result);
        if (!read.ok) return void (await fail(`but ${read.reason}`));
        const lacking = read.requests.map((r) => [r, missingCapability(r, this.initParams?.capabilities)] as const).filter(([, m]) => m !== null);
        if (lacking.length > 0) {
          const asked = lacking.map(([r, m]) => `${r.method} (needs the ${m} capability)`).join(", ");
          return void (await fail(`which this client did not declare at initialize: ${asked}`, { inputRequests: lacking.map(([r]) => r.method) }));
        }
        let responses: Record<string, unknown>;
        try {
          responses = Object.fromEntries(await Promise.all(read.requests.map(async (r) => [r.key, await this.#ask(r, request.id, abort.signal)] as const)));
        } catch (err) {
          if (abort.signal.aborted) return;
          return void (await fail(`and ${(err as Error).message}`));
        }
        const params = { ...((request as { params?: Record<string, unknown> }).params ?? {}) };
        if (read.requests.length > 0) params.inputResponses = responses;
        if (read.requestState !== undefined) params.requestState = read.requestState;
        // Each round is a request of its own upstream (the revision's retry is a new request).
        upstreamRequest = { ...request, id: `${String(request.id).slice(0, 200)}~${round + 1}`, params } as typeof request;
      }
    } finally {
      this.#pending.delete(request.id);
    }
  }

  /** Asks the client for one input, as a request related to the call; resolves with its result. */
  #ask(input: InputRequest, callId: RequestId, signal: AbortSignal): Promise<unknown> {
    const id = `${INPUT_PREFIX}${++this.#askSeq}`;
    return new Promise<unknown>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", withdraw);
        this.#asked.delete(id);
      };
      const withdraw = () => {
        done();
        void this.#send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "the call was cancelled" } }, callId);
        reject(new InputFailed("the call was cancelled"));
      };
      const timer = setTimeout(() => {
        done();
        void this.#send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "SMCP stopped waiting" } }, callId);
        reject(new InputFailed(`the client did not answer its ${input.method} within ${INPUT_WAIT_MS / 1000} s`));
      }, INPUT_WAIT_MS);
      signal.addEventListener("abort", withdraw, { once: true });
      this.#asked.set(id, (answer) => {
        done();
        if (isJSONRPCErrorResponse(answer)) {
          const text = String((answer as { error?: { message?: unknown } }).error?.message ?? "").slice(0, 300);
          return reject(new InputFailed(`the client answered its ${input.method} with an error: ${text}`));
        }
        resolve((answer as { result?: unknown }).result ?? {});
      });
      void this.#send({ jsonrpc: "2.0", id, method: input.method, params: legacyParams(input) } as JSONRPCMessage, callId);
    });
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

  /** A message about a request whose stream is gone is dropped, not moved to the standalone stream (`orStandalone` false). */
  #send(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    return this.#closed ? Promise.resolve() : this.toClient(message, relatedRequestId, false);
  }
}

/** A 2026 final answer as a 2025 client takes it. */
function asLegacyAnswer(answer: JSONRPCMessage): JSONRPCMessage {
  if (!isJSONRPCResponse(answer) || isJSONRPCErrorResponse(answer)) return answer;
  const { resultType: _, ...result } = ((answer as { result?: Record<string, unknown> }).result ?? {}) as Record<string, unknown>;
  return { jsonrpc: "2.0", id: (answer as { id: RequestId }).id, result };
}
