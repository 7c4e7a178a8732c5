/**
 * The session backend of an upstream server (gateway): relays JSON-RPC messages
 * between the session's client transport (Streamable HTTP, event log, resumability:
 * all the session object's) and one upstream session of its own. An upstream session
 * belongs to one SMCP session and is never shared.
 *
 * Each client message is POSTed on its own (upstream-client.ts), so what comes back is
 * known to belong to that request: its answer goes to the client, and the upstream's
 * requests and notifications on that exchange go to the client's stream of that
 * request (`relatedRequestId`). What the relay adds to a pipe:
 * - the client's credentials never go upstream: only the configured headers, with
 *   secret references filled in (resolved by the caller, held in memory only);
 * - every upstream message is shape-checked and size-capped, and counted (per call, and
 *   per window on the standalone stream); an answer is passed on
 *   only to the request that waits for it; a call ends with a clear error when the
 *   upstream refuses SMCP (401/403, naming its authorization metadata), fails (its
 *   HTTP status), times out, or ends its stream without answering; a call it gives
 *   up on while the upstream may still work on it (timeout, flood) is cancelled upstream;
 * - after a restart of the session object (`restore`) the upstream session is opened
 *   again with the client's stored `initialize` params; an upstream that forgot the
 *   session (404) is re-initialized once and the message sent again.
 * The log level and resource subscriptions the client set are kept (in the session's
 * meta) and replayed into a new upstream session. While an upstream session is open,
 * its standalone stream (GET) is held: what the upstream sends there (its requests to
 * the client, list changes) goes to the client's standalone stream; a dropped stream
 * is opened again after a pause, a few times in a row at most.
 */
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse } from "@modelcontextprotocol/server";
import type { InitializeParams } from "../mcp/restore-session";
import { ClientSideRelay } from "../mcp/client-side-relay";
import { keepReplayState, replayRequests, type ReplayState } from "../mcp/replay-state";
import { wordFailure } from "./failure-text";
import { deleteSession, openListenStream, postMessage, type UpstreamEndpoint, type UpstreamFailure, type UpstreamSessionHeaders } from "./upstream-client";

export interface UpstreamRelayOptions {
  server: string;
  url: string;
  allowLoopback: boolean;
  /** The configured headers with their secrets filled in; throws an `UpstreamSetupError` with what to do. */
  headers(): Promise<Record<string, string>>;
  /** How long a request may wait for its answer; any message of the upstream about it restarts the wait. */
  callTimeoutMs: number;
  console(level: string, line: string): void;
  /** What the client set (log level, subscriptions): replayed into a new upstream session. */
  state: ReplayState;
  saveState(state: ReplayState): void;
  /** Whether the upstream's standalone stream is held (default true; the stateless lane holds it once per server, not per session). */
  listen?: boolean;
  /** The client's `initialize` got an error in the upstream's place: the session should end (after that answer). */
  initializeFailed?(): void;
}

/** The upstream cannot be called as configured (a missing secret, no secrets key): the message says what to do. */
export class UpstreamSetupError extends Error {}

/** A failure of the upstream that ends one client request, worded for the client. */
class UpstreamCallError extends Error {
  constructor(
    message: string,
    readonly data: Record<string, unknown>,
  ) {
    super(message);
  }
}

const INIT_PREFIX = "smcp-upstream-init-";
/** A standalone stream that fails this many times in a row is given up until the next upstream session. */
const LISTEN_RETRIES = 5;
const LISTEN_PAUSE_MS = 1_000;
/** The most messages an upstream may send about one call (its answer included) … */
export const MAX_MESSAGES_PER_CALL = 1_000;
/** … and on its standalone stream per window; past it, messages are dropped with a warning. */
export const MAX_LISTEN_MESSAGES = 200;
export const LISTEN_WINDOW_MS = 10_000;

interface Pending {
  method: string;
  abort: AbortController;
  timer: ReturnType<typeof setTimeout>;
}

export class UpstreamRelay extends ClientSideRelay {
  readonly #opts: UpstreamRelayOptions;
  /** Undefined until an upstream session is open. */
  #session: UpstreamSessionHeaders | undefined;
  #opening: Promise<void> | undefined;
  #endpoint: Promise<UpstreamEndpoint> | undefined;
  #pending = new Map<RequestId, Pending>();
  #initSeq = 0;
  #closed = false;
  /** Aborts the held standalone stream of the current upstream session. */
  #listening: AbortController | undefined;

  constructor(opts: UpstreamRelayOptions) {
    super();
    this.#opts = opts;
  }



  async close(): Promise<void> {
    this.#closed = true;
    this.#listening?.abort();
    for (const [id, p] of this.#pending) clearTimeout(p.timer), p.abort.abort(), this.#pending.delete(id);
    const session = this.#session;
    this.#session = undefined;
    if (session?.sessionId && this.#endpoint) {
      const endpoint = await this.#endpoint.catch(() => null);
      if (endpoint) await deleteSession(endpoint, session, 5_000);
    }
  }

  protected async fromClient(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return;
    if (isJSONRPCRequest(message)) {
      if (message.method === "initialize") {
        this.initParams = message.params as InitializeParams;
        this.#session = undefined;
        await this.#call(message);
        return;
      }
      try {
        await this.#ensureSession();
      } catch (err) {
        this.#answerError(message.id, err);
        return;
      }
      void this.#call(message);
      return;
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (pending) clearTimeout(pending.timer), this.#pending.delete(id!), pending.abort.abort();
    }
    // A notification or an answer to a request of the upstream: one way, no answer expected.
    try {
      const initialized = isJSONRPCNotification(message) && message.method === "notifications/initialized";
      if (!initialized) await this.#ensureSession();
      const outcome = await this.#post(message, AbortSignal.timeout(this.#opts.callTimeoutMs));
      if (initialized && this.#session) this.#listen();
      if (outcome.kind === "failed" && outcome.failure.reason === "expired") {
        this.#session = undefined;
        await this.#ensureSession();
        await this.#post(message, AbortSignal.timeout(this.#opts.callTimeoutMs));
      } else if (outcome.kind === "messages") {
        for await (const _ of outcome.items); // nothing is expected back; drained and dropped
      }
    } catch (err) {
      this.#opts.console("warning", `SMCP could not pass a message on to upstream ${this.#opts.server}: ${(err as Error).message}`);
    }
  }

  #endpointNow(): Promise<UpstreamEndpoint> {
    this.#endpoint ??= this.#opts.headers().then((headers) => ({ url: this.#opts.url, headers, allowLoopback: this.#opts.allowLoopback }));
    // A failure (a secret not set yet) is not kept: the next call tries again.
    this.#endpoint.catch(() => (this.#endpoint = undefined));
    return this.#endpoint;
  }

  async #post(message: JSONRPCMessage, signal: AbortSignal) {
    const endpoint = await this.#endpointNow();
    return postMessage(endpoint, this.#session ?? { sessionId: null, protocolVersion: null }, message, signal);
  }

  /** Opens the upstream session with the client's `initialize` params, once for concurrent callers; its answers stay here. */
  #ensureSession(): Promise<void> {
    if (this.#session) return Promise.resolve();
    if (!this.initParams) return Promise.reject(new UpstreamCallError("the session has no initialize to replay", {}));
    this.#opening ??= (async () => {
      const id = `${INIT_PREFIX}${++this.#initSeq}`;
      const answer = await this.#exchange({ jsonrpc: "2.0", id, method: "initialize", params: this.initParams as Record<string, unknown> }, "initialize", () => {});
      if (!this.#session) throw new UpstreamCallError(`Upstream ${this.#opts.server} did not open a session`, { upstream: this.#opts.server });
      if (isJSONRPCErrorResponse(answer)) throw new UpstreamCallError(`Upstream ${this.#opts.server} refused to initialize again: ${String(answer.error.message).slice(0, 300)}`, { upstream: this.#opts.server });
      const done = await this.#post({ jsonrpc: "2.0", method: "notifications/initialized" }, AbortSignal.timeout(this.#opts.callTimeoutMs));
      if (done.kind === "messages") for await (const _ of done.items);
      const replay = async (method: string, params: Record<string, unknown>) => {
        const answer = await this.#exchange({ jsonrpc: "2.0", id: `${INIT_PREFIX}${++this.#initSeq}`, method, params }, method, () => {}).catch((e: Error) => e);
        if (answer instanceof Error || isJSONRPCErrorResponse(answer)) this.#opts.console("warning", `SMCP could not replay ${method} into the new session of upstream ${this.#opts.server}`);
      };
      for (const { method, params } of replayRequests(this.#opts.state)) await replay(method, params);
      this.#listen();
      this.#opts.console("info", `SMCP opened a new session with upstream ${this.#opts.server}`);
    })().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  /** A client request: its answer (or an error in the upstream's place) goes to the client. */
  async #call(request: JSONRPCMessage & { id: RequestId; method: string }, retried = false): Promise<void> {
    try {
      const answer = await this.#exchange(request, request.method, (m) => void this.#send(m, request.id));
      void this.#send(answer);
      if (request.method === "initialize" && isJSONRPCErrorResponse(answer)) this.#opts.initializeFailed?.();
      if (isJSONRPCResponse(answer) && !isJSONRPCErrorResponse(answer)) this.#keepState(request.method, (request as { params?: unknown }).params);
    } catch (err) {
      if (err instanceof ExpiredError && !retried && request.method !== "initialize") {
        this.#session = undefined;
        try {
          await this.#ensureSession();
        } catch (e) {
          this.#answerError(request.id, e);
          return;
        }
        return this.#call(request, true);
      }
      this.#answerError(request.id, err);
      // A session whose upstream never opened would hold a session slot until its TTL.
      if (request.method === "initialize" && !(err instanceof CancelledError)) this.#opts.initializeFailed?.();
    }
  }

  /**
   * POSTs `request` and reads what comes back until its answer: the upstream's own
   * requests and notifications meanwhile go to `related`. Throws UpstreamCallError
   * (worded for the client), ExpiredError (the upstream forgot the session), or a
   * CancelledError when the client cancelled it.
   */
  async #exchange(request: JSONRPCMessage & { id: RequestId }, method: string, related: (m: JSONRPCMessage) => void): Promise<JSONRPCMessage & { id: RequestId }> {
    const abort = new AbortController();
    const timeoutMs = this.#opts.callTimeoutMs;
    let timedOut = false;
    const arm = () => setTimeout(() => ((timedOut = true), abort.abort()), timeoutMs);
    const pending: Pending = { method, abort, timer: arm() };
    let abandoned: string | null = null;
    const fromClient = !String(request.id).startsWith(INIT_PREFIX);
    if (fromClient) this.#pending.set(request.id, pending);
    const rearm = () => {
      clearTimeout(pending.timer);
      pending.timer = arm();
    };
    try {
      let outcome;
      try {
        outcome = await this.#post(request, abort.signal);
      } catch (err) {
        if (err instanceof UpstreamSetupError) throw new UpstreamCallError(`Upstream ${this.#opts.server} cannot be called: ${err.message}`, { upstream: this.#opts.server });
        throw err;
      }
      if (outcome.kind === "failed") throw this.#failure(outcome.failure, method, timedOut);
      if (outcome.kind === "accepted") throw this.#failure({ reason: "malformed", detail: `it accepted ${method} without answering it` }, method, false);
      if (method === "initialize" && outcome.sessionId !== null) this.#session = { sessionId: outcome.sessionId, protocolVersion: null };
      let count = 0;
      for await (const item of outcome.items) {
        if ("failure" in item) throw this.#failure(item.failure, method, timedOut);
        if (++count > MAX_MESSAGES_PER_CALL) {
          abandoned = `it sent more than ${MAX_MESSAGES_PER_CALL} messages about one call`;
          throw this.#failure({ reason: "malformed", detail: abandoned }, method, false);
        }
        const m = item.message;
        if (isJSONRPCResponse(m) || isJSONRPCErrorResponse(m)) {
          if (m.id !== request.id) {
            this.#opts.console("warning", `SMCP dropped an answer of upstream ${this.#opts.server} to request ${String(m.id).slice(0, 64)}, which is not waiting for one`);
            continue;
          }
          if (fromClient && !this.#pending.has(request.id)) throw new CancelledError();
          if (method === "initialize" && isJSONRPCResponse(m)) {
            const version = ((m as { result?: { protocolVersion?: unknown } }).result ?? {}).protocolVersion;
            const negotiated = typeof version === "string" && /^[\w.-]{1,32}$/.test(version) ? version : null;
            this.#session = { sessionId: this.#session?.sessionId ?? outcome.sessionId, protocolVersion: negotiated };
          }
          return m as JSONRPCMessage & { id: RequestId };
        }
        rearm();
        related(m);
      }
      if (fromClient && !this.#pending.has(request.id)) throw new CancelledError();
      throw this.#failure(timedOut ? { reason: "timeout" } : { reason: "malformed", detail: `it ended its stream without answering ${method}` }, method, timedOut);
    } finally {
      clearTimeout(pending.timer);
      if (fromClient) this.#pending.delete(request.id);
      // The client got an error in the upstream's place; an upstream still at work on it is told to stop.
      if (timedOut) abandoned = `SMCP gave up waiting after ${timeoutMs / 1000} s`;
      if (abandoned && fromClient) void this.#cancelUpstream(request.id, abandoned);
    }
  }

  async #cancelUpstream(requestId: RequestId, reason: string): Promise<void> {
    if (!this.#session || this.#closed) return;
    const cancel: JSONRPCMessage = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId, reason } };
    const outcome = await this.#post(cancel, AbortSignal.timeout(5_000)).catch(() => null);
    if (outcome?.kind === "messages") for await (const _ of outcome.items); // nothing is expected back
  }

  /** Holds the upstream's standalone stream for the current upstream session (one at a time). */
  #listen(): void {
    if (this.#opts.listen === false) return;
    this.#listening?.abort();
    const abort = new AbortController();
    this.#listening = abort;
    const session = this.#session;
    void (async () => {
      for (let failures = 0; failures < LISTEN_RETRIES && !abort.signal.aborted && !this.#closed && this.#session === session; ) {
        const endpoint = await this.#endpointNow().catch(() => null);
        if (!endpoint || !session) return;
        const opened = await openListenStream(endpoint, session, abort.signal);
        if (opened.kind === "none") return;
        if (opened.kind === "failed") {
          if (opened.failure.reason === "expired" || opened.failure.reason === "auth") return;
          failures++;
        } else {
          // A stream that ends without a message counts as a failure: an upstream that closes it at once is not retried forever.
          let delivered = false;
          let window = { start: Date.now(), count: 0, warned: false };
          for await (const item of opened.items) {
            if ("failure" in item) break;
            delivered = true;
            const now = Date.now();
            if (now - window.start >= LISTEN_WINDOW_MS) window = { start: now, count: 0, warned: false };
            if (++window.count > MAX_LISTEN_MESSAGES) {
              if (!window.warned) this.#opts.console("warning", `SMCP dropped messages of upstream ${this.#opts.server}: more than ${MAX_LISTEN_MESSAGES} in ${LISTEN_WINDOW_MS / 1000} s on its standalone stream`);
              window.warned = true;
              continue;
            }
            const m = item.message;
            // Answers belong to calls; only requests and notifications come this way.
            if (isJSONRPCRequest(m) || isJSONRPCNotification(m)) void this.#send(m);
          }
          failures = delivered ? 0 : failures + 1;
        }
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, LISTEN_PAUSE_MS));
      }
    })().catch((err: unknown) => this.#opts.console("warning", `SMCP stopped listening to upstream ${this.#opts.server}: ${String((err as Error)?.message ?? err).slice(0, 200)}`));
  }

  /** The client's protocol state, as a successful answer confirmed it. */
  #keepState(method: string, params: unknown): void {
    if (keepReplayState(this.#opts.state, method, params)) this.#opts.saveState(this.#opts.state);
  }

  #failure(f: UpstreamFailure, method: string, timedOut: boolean): Error {
    if (f.reason === "expired" && !timedOut) return new ExpiredError();
    const worded = wordFailure(this.#opts.server, this.#opts.url, timedOut || f.reason === "expired" ? { reason: "timeout" } : f, method, this.#opts.callTimeoutMs);
    return new UpstreamCallError(worded.message, worded.data);
  }

  #answerError(id: RequestId, err: unknown): void {
    if (err instanceof CancelledError) return;
    const known = err instanceof UpstreamCallError;
    if (!known) this.#opts.console("error", `SMCP relay to upstream ${this.#opts.server} failed: ${String((err as Error)?.message ?? err).slice(0, 300)}`);
    const message = known ? err.message : err instanceof UpstreamSetupError ? `Upstream ${this.#opts.server} cannot be called: ${err.message}` : `Upstream ${this.#opts.server}: the call failed inside SMCP`;
    void this.#send(relayError(id, message, known ? err.data : { upstream: this.#opts.server }));
  }

  #send(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    return this.#closed ? Promise.resolve() : this.toClient(message, relatedRequestId);
  }
}

class ExpiredError extends Error {}
class CancelledError extends Error {}

/** The one place the relay words an error answer in the upstream's place. */
const relayError = (id: RequestId, message: string, data: Record<string, unknown>): JSONRPCMessage => ({ jsonrpc: "2.0", id, error: { code: -32603, message, data } });
