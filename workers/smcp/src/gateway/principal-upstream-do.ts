/**
 * The upstream sessions of the stateless lane (2026-07-28 clients in front of a
 * 2025-era upstream). A stateless request carries no session, but a 2025 upstream only
 * serves sessions: SMCP holds one for the caller, in this object, one object per
 * principal (tenant incarnation, server, key id or OAuth grant), so an upstream
 * session is never shared between callers (objectName below). An anonymous caller of
 * a public server gets an object of its own for the one request (a random name), whose
 * upstream session is deleted when the request ends: strangers share nothing and leave
 * nothing.
 *
 * Nothing is stored but an alarm: the upstream session lives in memory. An upstream
 * session that has had no request for SMCP_UPSTREAM_IDLE_SECONDS is deleted upstream
 * (HTTP DELETE, the relay's close) and forgotten when the alarm fires, so an idle
 * principal does not hold a session of the upstream until the object happens to be
 * evicted; its next request opens a new one. After a restart of the
 * object the next request opens a new one; a request in flight when the object went
 * away ends with an error in the Worker (SPEC section 3). An upstream that forgot its
 * session (404) is re-initialized by the relay (relay.ts) and the message sent again.
 *
 * Each object keeps one upstream session per set of client capabilities it was asked
 * to declare (what the 2026 client declared, less tasks), at most MAX_SESSIONS; the
 * least recently used one is closed first (its requests in flight end with an error).
 * The upstream's sampling, elicitation and roots requests about a call become input
 * rounds of the 2026 client (input-bridge.ts): the call waits here, in memory, between
 * the client's requests.
 *
 * One more object per tenant incarnation and server (listenName) holds the upstream's
 * standalone stream while `subscriptions/listen` streams of that server are open (the
 * server's listen bus counts them); the upstream's list changes go to that bus; when
 * none is left, the upstream session is deleted.
 */
import { DurableObject } from "cloudflare:workers";
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/server";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCResponse } from "@modelcontextprotocol/server";
import { platformConfig, tenantIncarnationName } from "@smcp/runtime";
import { listenBusStub, type Env } from "../env";
import { logEvent } from "../log";
import type { InitializeParams } from "../mcp/restore-session";
import { incarnationOf, type Principal } from "../mcp/principal";
import { moduleOfRef, type ServerRef } from "../sandbox/resolve-server";
import { isUpstreamModule } from "./serving";
import { UpstreamRelay } from "./relay";
import { PipeTransport } from "./pipe-transport";
import { INPUT_METHODS, MAX_PARKED, PARK_TTL_MS, ParkedCalls, ROUND_METHODS, answerFor, inputParams, inputRequiredResult, targetOf, type Asked, type BridgedCall } from "./input-bridge";
import { configureTracing } from "../tracing/exporter";

/** What a 2026 request asks SMCP to declare to the upstream (already bounded by the caller). */
export interface DeclaredClient {
  capabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string };
}

/** The upstream's own description, from its `initialize` answer. */
export interface UpstreamDescription {
  serverInfo: { name: string; version: string; title?: string };
  capabilities: Record<string, unknown>;
  instructions?: string;
}

export type DescribeOutcome = { ok: true; description: UpstreamDescription } | { ok: false; error: { code: number; message: string; data?: unknown } };

const MAX_SESSIONS = 4;
/** The revision SMCP speaks to a 2025-era upstream. */
const UPSTREAM_REVISION = "2025-11-25";
/** How often the listen object asks the bus whether anyone still listens. */
const LISTEN_CHECK_MS = 2_000;
/** A 2026 request names itself; the relay gets an id of SMCP's own, unique in this object. */
const ID_PREFIX = "smcp-stateless-";

export const principalObjectName = (p: Principal) =>
  `principal:${tenantIncarnationName(p.tenant, incarnationOf(p))}/${p.server}/${p.grantId ? `grant:${p.grantId}` : `key:${p.keyId}`}`;
export const listenObjectName = (tenant: string, incarnation: string, server: string) => `listen:${tenantIncarnationName(tenant, incarnation)}/${server}`;

interface Entry {
  key: string;
  /** What SMCP declared to the upstream for this session. */
  declared: Record<string, unknown>;
  relay: UpstreamRelay;
  pipe: PipeTransport;
  description: Promise<DescribeOutcome>;
}

const encoder = new TextEncoder();
const line = (m: JSONRPCMessage) => encoder.encode(`${JSON.stringify(m)}\n`);

export class UpstreamPrincipalDO extends DurableObject<Env> {
  /** By declared-capabilities key, least recently used first. */
  readonly #entries = new Map<string, Entry>();
  #seq = 0;
  #listening: Entry | undefined;
  /** The calls relayed now or parked, by SMCP's id upstream. */
  readonly #calls = new Map<string, { call: BridgedCall; entry: Entry; unbridgeable: string | null }>();
  readonly #parked = new ParkedCalls();
  /** When the last request came (describe or relay), for the idle alarm. */
  #lastRequest = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Spans of the upstream calls this object makes are exported from its isolate (tracing/client-span.ts).
    configureTracing(env);
  }

  /** Opens (or reuses) the upstream session for `client` and answers the upstream's description. */
  async describe(ref: ServerRef, principal: Principal, client: DeclaredClient, oneShot: boolean): Promise<DescribeOutcome> {
    if (!oneShot) await this.#touch();
    const entry = this.#entry(ref, principal, client);
    if (!entry) return { ok: false, error: { code: -32603, message: `Server ${principal.server} is not an upstream server` } };
    const described = await entry.description;
    if (oneShot) await this.#drop(entry);
    return described;
  }

  /**
   * Relays one request of a 2026 client on the upstream session for `client`: a stream
   * of lines, one JSON-RPC message each: the upstream's notifications about the call,
   * then its answer (with the request's own id). Cancelling the stream cancels the call.
   * When the upstream asks for input about the call (sampling, elicitation, roots), the
   * answer is an `input_required` result and the call waits, parked (input-bridge.ts);
   * `resume` (a retried request's `requestState` and `inputResponses`) takes it up again.
   */
  async relay(
    ref: ServerRef,
    principal: Principal,
    client: DeclaredClient,
    request: JSONRPCRequest,
    oneShot: boolean,
    resume?: { requestState: unknown; inputResponses: unknown },
  ): Promise<ReadableStream<Uint8Array>> {
    if (!oneShot) await this.#touch();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const sink = {
      clientId: request.id,
      progressToken: progressTokenOf(request),
      write: (m: JSONRPCMessage) => void writer.write(line(m)).catch(() => {}),
      close: () => void writer.close().catch(() => {}),
    };
    const fail = (error: { code: number; message: string; data?: unknown }) => {
      sink.write({ jsonrpc: "2.0", id: request.id, error } as JSONRPCMessage);
      sink.close();
    };
    if (resume) {
      const taken = this.#parked.take(resume.requestState, principalObjectName(principal), request);
      if (!taken.ok) fail(taken.error);
      else this.#resume(taken.call, sink, resume.inputResponses, writer);
      return readable;
    }
    const entry = this.#entry(ref, principal, client);
    if (!entry) {
      fail({ code: -32603, message: `Server ${principal.server} is not an upstream server` });
      return readable;
    }
    const described = await entry.description;
    if (!described.ok) {
      fail(described.error);
      if (oneShot) void this.#drop(entry);
      return readable;
    }
    const id = `${ID_PREFIX}${++this.#seq}`;
    const call: BridgedCall = { id, principal: principalObjectName(principal), method: request.method, target: targetOf(request), sink, asked: [], final: null, handle: null, timer: undefined, seq: 0 };
    const unbridgeable = oneShot ? "an anonymous caller (its upstream session lasts one request)" : ROUND_METHODS.has(request.method) ? null : `${request.method}, whose result cannot be input_required`;
    this.#calls.set(id, { call, entry, unbridgeable });
    entry.pipe.expect(id, {
      message: (m) => {
        const answer = isJSONRPCResponse(m) || isJSONRPCErrorResponse(m);
        if (!call.sink) {
          if (answer) call.final = m;
          return; // a notification while nobody listens: dropped
        }
        if (answer) return call.sink.write({ ...m, id: call.sink.clientId } as JSONRPCMessage);
        const progress = forRound(m, call.sink.progressToken);
        if (progress) call.sink.write(progress);
      },
      end: () => {
        if (call.sink) {
          call.sink.close();
          call.sink = null;
          this.#forget(call);
        }
        if (oneShot) void this.#drop(entry);
      },
    });
    this.#watch(call, sink, writer);
    entry.pipe.deliver({ ...request, id });
    return readable;
  }

  /** The reader of `sink` went away (the client cancelled or disconnected): the upstream is told. */
  #watch(call: BridgedCall, sink: BridgedCall["sink"], writer: WritableStreamDefaultWriter<Uint8Array>): void {
    writer.closed.catch(() => {
      if (call.sink !== sink) return;
      call.sink = null;
      this.#cancelUpstream(call, "the client went away");
    });
  }

  /** The client answered (some of) what the upstream asked: the answers go upstream and the call goes on. */
  #resume(call: BridgedCall, sink: NonNullable<BridgedCall["sink"]>, responses: unknown, writer: WritableStreamDefaultWriter<Uint8Array>): void {
    const held = this.#calls.get(call.id);
    if (!held) {
      sink.write({ jsonrpc: "2.0", id: sink.clientId, error: { code: -32603, message: "The upstream call this requestState stood for was lost; send the request again without requestState" } } as JSONRPCMessage);
      sink.close();
      return;
    }
    call.sink = sink;
    this.#watch(call, sink, writer);
    const still: Asked[] = [];
    for (const asked of call.asked) {
      const answer = answerFor(responses, asked.key);
      if (answer === null) still.push(asked);
      else if ("result" in answer) held.entry.pipe.deliver({ jsonrpc: "2.0", id: asked.upstreamId, result: answer.result });
      else held.entry.pipe.deliver({ jsonrpc: "2.0", id: asked.upstreamId, error: { code: -32602, message: answer.error } });
    }
    call.asked = still;
    if (call.final) {
      sink.write({ ...call.final, id: sink.clientId } as JSONRPCMessage);
      sink.close();
      call.sink = null;
      this.#forget(call);
      return;
    }
    if (still.length > 0) this.#askClient(call);
  }

  /** Ends the client's current round with `input_required` for what the upstream asked; the call waits, parked. */
  #askClient(call: BridgedCall): void {
    const sink = call.sink;
    if (!sink) return;
    const handle = this.#parked.park(call, (expired) => this.#cancelUpstream(expired, `no answer from the client within ${PARK_TTL_MS / 1000} s`));
    call.sink = null;
    sink.write({ jsonrpc: "2.0", id: sink.clientId, result: inputRequiredResult(call.asked, handle) } as JSONRPCMessage);
    sink.close();
  }

  #cancelUpstream(call: BridgedCall, reason: string): void {
    const held = this.#calls.get(call.id);
    this.#forget(call);
    if (held && held.entry.pipe.cancel(call.id)) held.entry.pipe.deliver({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: call.id, reason } });
  }

  #forget(call: BridgedCall): void {
    this.#calls.delete(call.id);
  }

  /**
   * A request of the upstream (sampling, elicitation, roots, ping). About a call of a
   * 2026 client that declared what it needs: the call's round ends with an input
   * request (above). Anything else is answered here: ping at once, the rest refused,
   * and a call whose client cannot answer ends with an error that says why.
   */
  #upstreamRequest(pipe: PipeTransport, m: JSONRPCRequest, related: RequestId | undefined, server: string): void {
    const refuse = (message: string) => pipe.deliver({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message } });
    if (m.method === "ping") return pipe.deliver({ jsonrpc: "2.0", id: m.id, result: {} });
    const held = related === undefined ? undefined : this.#calls.get(String(related));
    const capability = INPUT_METHODS.get(m.method);
    if (!held || !capability) return refuse(`SMCP's stateless lane relays ${m.method.slice(0, 100)} from a 2025-era upstream only as an input round of a call`);
    const { call, entry, unbridgeable } = held;
    const endCall = (message: string) => {
      refuse(message);
      const sink = call.sink;
      call.sink = null;
      this.#cancelUpstream(call, message);
      sink?.write({ jsonrpc: "2.0", id: sink.clientId, error: { code: -32603, message, data: { upstream: server } } } as JSONRPCMessage);
      sink?.close();
    };
    if (unbridgeable) return endCall(`Upstream ${server} asked for ${m.method} during ${call.method}, which SMCP cannot bridge into an input round for ${unbridgeable}`);
    if (!(capability in entry.declared)) return endCall(`Upstream ${server} asked for ${m.method} during ${call.method}, but the client did not declare the ${capability} capability`);
    if (call.asked.length >= 8) return refuse(`SMCP holds at most 8 requests of upstream ${server} per call`);
    if (!call.handle && this.#parked.size >= MAX_PARKED) return endCall(`Too many calls to upstream ${server} wait for input (at most ${MAX_PARKED} per key); answer or abandon one first`);
    call.asked.push({ key: `${capability}-${++call.seq}`, upstreamId: m.id, method: m.method, params: inputParams(m) });
    // Parked already: the client gets this one with its next round.
    if (call.sink) this.#askClient(call);
  }

  /**
   * Called by each `subscriptions/listen` request of the server as it opens: from then
   * until the server's listen bus holds no stream, the upstream's standalone stream is
   * open and its list changes go to the bus. The bus's own count is checked every
   * LISTEN_CHECK_MS (a listener that went away is counted out there), so nothing here
   * depends on noticing each listener leave.
   */
  async hold(ref: ServerRef, tenant: string, incarnation: string, server: string): Promise<void> {
    if (this.#listening) return;
    const bus = () => listenBusStub(this.env, tenant, incarnation, server);
    const publish = (kind: "tools_list_changed" | "resources_list_changed" | "prompts_list_changed") =>
      this.ctx.waitUntil(bus().publish({ kind }).then(() => {}, (err: Error) => logEvent("warn", "upstream list change not published", { tenant, server, error: err.message })));
    const principal: Principal = { tenant, incarnation, server, keyId: null };
    const entry = this.#open(ref, principal, { capabilities: {}, clientInfo: { name: "smcp-listen", version: "1" } }, "listen", (m) => {
      if (m.method === "notifications/tools/list_changed") publish("tools_list_changed");
      else if (m.method === "notifications/resources/list_changed") publish("resources_list_changed");
      else if (m.method === "notifications/prompts/list_changed") publish("prompts_list_changed");
    });
    if (!entry) return;
    this.#listening = entry;
    const check = setInterval(() => {
      void bus()
        .openStreams()
        .then((open) => {
          if (open > 0 || this.#listening !== entry) return;
          clearInterval(check);
          this.#listening = undefined;
          void entry.relay.close();
        })
        .catch(() => {});
    }, LISTEN_CHECK_MS);
  }

  /** Deletes the upstream sessions once no request came for SMCP_UPSTREAM_IDLE_SECONDS; until then, checks again when that would be. */
  async alarm(): Promise<void> {
    const idleMs = platformConfig(this.env).SMCP_UPSTREAM_IDLE_SECONDS * 1000;
    if (this.#entries.size === 0) return;
    // A call still relayed or parked for input is use too: it keeps its session.
    const due = this.#calls.size > 0 ? Date.now() + idleMs : this.#lastRequest + idleMs;
    if (Date.now() < due) {
      await this.ctx.storage.setAlarm(due);
      return;
    }
    await Promise.all([...this.#entries.values()].map((entry) => this.#drop(entry)));
  }

  /** A request came: the idle alarm counts from now (set once; the alarm moves itself on). An anonymous one-shot object sets none. */
  async #touch(): Promise<void> {
    this.#lastRequest = Date.now();
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#lastRequest + platformConfig(this.env).SMCP_UPSTREAM_IDLE_SECONDS * 1000);
  }

  #entry(ref: ServerRef, principal: Principal, client: DeclaredClient): Entry | null {
    const key = JSON.stringify(client.capabilities);
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const entry = this.#open(ref, principal, client, key);
    if (!entry) return null;
    this.#entries.set(key, entry);
    while (this.#entries.size > MAX_SESSIONS) void this.#drop(this.#entries.values().next().value!);
    return entry;
  }

  /** An upstream session: initialized through the relay as a 2025 client would, its standalone stream held only for `standalone`. */
  #open(ref: ServerRef, principal: Principal, client: DeclaredClient, key: string, standalone?: (m: JSONRPCMessage & { method: string }) => void): Entry | null {
    if (ref.kind !== "upstream") return null;
    const module = moduleOfRef(this.env, principal.tenant, incarnationOf(principal), principal.server, ref);
    if (!isUpstreamModule(module)) return null;
    const upstream = module.upstream;
    const config = platformConfig(this.env);
    let initFailed = false;
    const relay = new UpstreamRelay({
      server: upstream.server,
      url: upstream.url,
      allowLoopback: config.SMCP_ALLOW_LOOPBACK_EGRESS,
      headers: () => upstream.headers(),
      callTimeoutMs: config.SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS * 1000,
      console: (level, text) => logEvent(level === "error" ? "error" : level === "info" ? "info" : "warn", text, { server: upstream.server }),
      state: {},
      saveState: () => {},
      listen: standalone !== undefined,
      initializeFailed: () => (initFailed = true),
    });
    const pipe = new PipeTransport({
      // A request of the upstream (sampling, elicitation, roots) has no way to a 2026 client here: it is refused at once.
      upstreamRequest: (m, related) => this.#upstreamRequest(pipe, m, related, upstream.server),
      standalone: (m) => (isJSONRPCNotification(m) ? standalone?.(m) : undefined),
    });
    const description = (async (): Promise<DescribeOutcome> => {
      await relay.connect(pipe.asTransport());
      const params: InitializeParams = { protocolVersion: UPSTREAM_REVISION, capabilities: client.capabilities, clientInfo: client.clientInfo } as InitializeParams;
      const answer = await pipe.ask({ jsonrpc: "2.0", id: `${ID_PREFIX}init-${++this.#seq}`, method: "initialize", params: params as unknown as Record<string, unknown> });
      if (isJSONRPCErrorResponse(answer) || initFailed || !isJSONRPCResponse(answer)) {
        const error = isJSONRPCErrorResponse(answer) ? answer.error : { code: -32603, message: `Upstream ${upstream.server} did not initialize` };
        // Not kept: the next request tries again (a secret may be set meanwhile).
        if (this.#entries.get(key)?.relay === relay) this.#entries.delete(key);
        void relay.close();
        return { ok: false, error };
      }
      pipe.deliver({ jsonrpc: "2.0", method: "notifications/initialized" });
      return { ok: true, description: describeResult(answer.result, upstream.server) };
    })();
    return { key, declared: client.capabilities, relay, pipe, description };
  }

  async #drop(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    entry.pipe.endAll(`Upstream session closed by SMCP before the upstream answered`);
    await entry.relay.close();
  }
}

const progressTokenOf = (request: JSONRPCRequest): unknown => (request.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;

/**
 * A notification about the call, for the client's current round: the upstream keeps
 * the progress token of the round that started the call, while each retried request
 * of the client has its own (or none: then progress is not passed on).
 */
function forRound(m: JSONRPCMessage, token: unknown): JSONRPCMessage | null {
  if (!isJSONRPCNotification(m) || m.method !== "notifications/progress") return m;
  if (token === undefined) return null;
  return { ...m, params: { ...m.params, progressToken: token } } as JSONRPCMessage;
}

/** The parts of an untrusted `initialize` result SMCP advertises again, shape-checked. */
function describeResult(result: unknown, server: string): UpstreamDescription {
  const r = (result ?? {}) as { serverInfo?: { name?: unknown; version?: unknown; title?: unknown }; capabilities?: unknown; instructions?: unknown };
  const str = (v: unknown, max: number) => (typeof v === "string" ? v.slice(0, max) : undefined);
  const capabilities = typeof r.capabilities === "object" && r.capabilities !== null && !Array.isArray(r.capabilities) ? (r.capabilities as Record<string, unknown>) : {};
  const title = str(r.serverInfo?.title, 200);
  const instructions = str(r.instructions, 16_384);
  return {
    serverInfo: { name: str(r.serverInfo?.name, 200) ?? server, version: str(r.serverInfo?.version, 64) ?? "upstream", ...(title ? { title } : {}) },
    capabilities,
    ...(instructions ? { instructions } : {}),
  };
}
