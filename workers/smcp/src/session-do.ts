/**
 * SessionDO: one MCP session of the session lane (2025 revisions).
 *
 * It owns the session's SDK server and transport, its SSE event log in SQLite and its
 * idle-TTL alarm. What must survive eviction or a restart (the session's identity,
 * its principal, the client's `initialize` params, the event log) is in SQLite; the
 * SDK objects are rebuilt from it on the next request. A Durable Object that holds no
 * session writes nothing: every path for an unknown id reads, answers 404 and stops.
 *
 * Creation: the client's `initialize` is checked against its bounds, then handed to
 * the SDK; only when the SDK accepts it (its `onsessioninitialized` hook, after every
 * check of Accept, media type and body) is the session admitted by the tenant and its
 * storage written. An `initialize` the SDK refuses takes no slot and stores nothing.
 *
 * Ending has one commit point: a single durable write of `ended` (with a retry alarm),
 * made in the same synchronous step as the decision to end. A request either touched
 * the session before that step (so an expiry check sees the activity and does not end
 * it) or finds it ended and gets 404. After the commit the session tells the tenant,
 * then deletes its storage; if the tenant cannot be reached, the data and the alarm
 * stay and the alarm re-drives the end. Concurrent ends share one run.
 *
 * Counters (requests, errors) are running totals in the session's KV, reported with a
 * sequence number at most every `REPORT_INTERVAL_MS` to the session's report shard,
 * which batches them to the tenant every 5 s (tenant/report-shard-do.ts); a report that
 * could not be sent right away is due by an alarm, so the tenant's figures lag by at
 * most two intervals plus alarm delay. The totals reach storage at most a second after
 * their requests (mcp/request-log.ts), so an idle eviction loses none.
 */
import { DurableObject } from "cloudflare:workers";
import { WebStandardStreamableHTTPServerTransport, type JSONRPCMessage } from "@modelcontextprotocol/server";
import {
  SESSION_REVISIONS,
  LATEST_SESSION_REVISION,
  SqliteEventLog,
  batchesAllowed,
  isEventStream,
  jsonRpcErrorResponse,
  platformConfig,
  toWireError,
  wire,
  WireError,
  type PlatformConfig,
  type ClientInfo,
  type StoredEvent,
} from "@smcp/runtime";
import { builtInServers } from "@smcp/servers";
import { tenantStub, type Env } from "./env";
import { reportTarget } from "./tenant/report-shard-do";
import { authInfoOf, incarnationOf, samePrincipal, type Principal } from "./mcp/principal";
import { requestsOnStream, type InitializeParams } from "./mcp/restore-session";
import { inProcessBackend, type SessionBackend } from "./mcp/session-backend";
import { SandboxRelay, type ReplayState } from "./sandbox/sdk/relay";
import { isSdkModule, type SdkServing } from "./sandbox/sdk/serving";
import { isUpstreamModule, type UpstreamServing } from "./gateway/serving";
import { UpstreamRelay } from "./gateway/relay";
import { ModernSessionRelay } from "./gateway/modern-session-relay";
import { modernUpstreamOf, servesModern, type ModernUpstream } from "./gateway/modern-upstream";
import { ConsoleKeeper } from "./sandbox/sdk/console-keeper";
import { primeStandaloneStream } from "./mcp/priming";
import { HeldAnswers, jsonAnswer, soleRequestId } from "./mcp/held-answer";
import { toSessionAnswer, type SessionAnswer } from "./mcp/session-answer";
import { StreamCounter } from "./mcp/stream-counter";
import { joinQueuedChunks } from "./mcp/coalesce";
import { REQUEST_COUNTS_KEY, RequestLog, type RequestCounts, type RequestLogEntry } from "./mcp/request-log";
import { initializeParamsProblem } from "./mcp/initialize-bounds";
import { resourceMetadataUrl } from "./mcp/authenticate";
import { EVENT_LOG_PRUNED_KEY, SESSION_MIGRATIONS } from "./session-schema";
import { createSchema, migrate } from "./storage/migrations";
import { TenantToolStore } from "./tool-store";
import type { AlarmTotals, SessionEndCause, SessionEndReason, SessionRecord, SessionUpdate } from "./tenant/types";
import { logEvent } from "./log";
import { serverKindOf } from "./metrics/server-kind";
import { setMetricsSwitch } from "./metrics/switch";
import { governTransport, type GovernedTransport } from "./policy/govern";
import { samePolicy, type ToolPolicy } from "./policy/tool-policy";
import { moduleOfRef, resolveServerModule, resolveServerVersion, type ServerRef } from "./sandbox/resolve-server";
import { configureTracing } from "./tracing/exporter";

// --- storage layout (docs/storage-schema.md, checked against the real storage by a test) ---
// KV: `meta` (SessionMeta), `alarmAt` (when the pending alarm was due, to measure its
// lag), `ended` (EndedState: the end has committed), `report` (ReportState),
// `requestCounts` (mcp/request-log.ts), `eventLogPrunedThrough` (session-schema.ts),
// `alarms` (AlarmTotals: the alarm runs its reports carry).
// SQL: SESSION_MIGRATIONS (session-schema.ts).
const META_KEY = "meta";
const ALARM_AT_KEY = "alarmAt";
const ENDED_KEY = "ended";
const REPORT_KEY = "report";
const ALARMS_KEY = "alarms";

const REPORT_INTERVAL_MS = 5_000;
/**
 * A session of a built-in server idle this long (the report interval: its counters have
 * gone out by then), with no stream open and no request in flight, drops its SDK
 * objects; the next request rebuilds them from storage, as after an eviction.
 */
const IDLE_DROP_MS = REPORT_INTERVAL_MS;
/** After a committed end could not reach the tenant, the alarm tries again this much later. */
const END_RETRY_MS = 10_000;

interface EndedState {
  reason: SessionEndReason;
  at: number;
  /** Who ended it from outside, for the tenant's audit row. */
  cause?: SessionEndCause;
}

/** The last report sent (`seq`) and the totals the tenant acknowledged. */
interface ReportState {
  seq: number;
  acked: RequestCounts;
}

/** What the routing Worker's RPC call carries besides the request. */
export interface SessionCall {
  principal: Principal;
  /** The id the Worker minted for an `initialize` without a session id; null otherwise. */
  newSessionId: string | null;
  /** What the Worker resolved the URL's server to (absent when its cache let the entry go: resolved here). */
  server?: ServerRef;
  /** The server's tool policy as the Worker resolved it (null: none). */
  policy?: ToolPolicy | null;
  traceparent?: string;
  /** The POST body's text, read by the Worker (absent: read from the request). */
  body?: string;
}

export interface SessionMeta extends Principal {
  sessionId: string;
  protocolVersion: string;
  initParams: InitializeParams;
  createdAt: number;
  lastActivity: number;
  /** The tenant's event-log byte bound when the session was created. */
  eventLogMaxBytes: number;
  /** The protocol state the client set, replayed into a rebuilt instance (deployed SDK server) or a new upstream session. */
  replay?: ReplayState;
  /** The deployed SDK server version the session started with: a rebuild runs it again, whatever is active now. */
  sdkVersion?: number;
  /** The tool policy last applied (policy/govern.ts): a change found after an eviction is announced too. */
  policy?: ToolPolicy | null;
}

/** The admin view of a live session: its index record plus what only the session knows. */
export interface SessionView extends SessionRecord {
  tenant: string;
  nextAlarm: number | null;
  /** Running totals of the session, kept across evictions. */
  requests: number;
  errors: number;
  /** Requests waiting for their answer (the request log's bounded in-flight map). */
  pendingRequests: number;
  /** Whether the session's SDK objects are in memory (false: dropped while idle or not yet rebuilt after an eviction). */
  loaded: boolean;
  eventLog: { events: number; bytes: number; lastSeq: number; prunedThrough: number };
}

interface Live {
  /** What serves the session: an SDK server in this isolate (built-in, or the module format's proxy), or a relay to a sandboxed SDK server. */
  backend: SessionBackend;
  transport: WebStandardStreamableHTTPServerTransport;
  /** Set once the session is admitted: a new session has no event-log tables before that. */
  log: SqliteEventLog;
  requests: RequestLog;
  /** POST answers held to be sent as one JSON body (SMCP_SESSION_RESPONSE_MODE `auto`). */
  held: HeldAnswers;
}

export class SessionDO extends DurableObject<Env> {
  #config: PlatformConfig;
  #meta: SessionMeta | undefined;
  #live: Live | undefined;
  #building: Promise<Live> | undefined;
  /** Set in the same step as the durable `ended` write; from then on every request gets 404. */
  #ended: EndedState | undefined;
  #finishing: Promise<void> | undefined;
  #reporting: Promise<void> | undefined;
  #persistedActivity = 0;
  #reportedAt = 0;
  /** When the pending alarm is due, as this instance set it (0: unknown). */
  #alarmAt = 0;
  #lastPrune = 0;
  #streams = new StreamCounter(() => this.#scheduleIdleDrop());
  /** Requests being served by this instance: the SDK objects are never dropped under one. */
  #inFlight = 0;
  /** This instance dropped its SDK objects with nothing in flight: a rebuild has no interrupted request to look for. */
  #droppedClean = false;
  /**
   * The server's tool policy this session applies (policy/govern.ts): the latest one a
   * request of the session or the tenant brought (every request carries it), kept in `meta`.
   */
  #policy: ToolPolicy | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = platformConfig(env);
    // Spans of the calls this object hands on (upstreams, sandboxes) are exported from its isolate (tracing/client-span.ts).
    configureTracing(env);
    setMetricsSwitch(env);
    // Only an object that holds a session has a schema to upgrade; an unknown id stays empty.
    if (this.#loadMeta()) migrate(ctx.storage, SESSION_MIGRATIONS);
    this.#ended = ctx.storage.kv.get<EndedState>(ENDED_KEY);
  }

  /** A request of the session lane, from the routing Worker: who asks, and what it resolved the server to. */
  async serve(request: Request, call: SessionCall): Promise<SessionAnswer> {
    this.#inFlight++;
    try {
      return toSessionAnswer(await this.#handle(request, call));
    } catch (err) {
      return jsonRpcErrorResponse(toWireError(err, (detail) => console.error("session-do: unexpected error", detail)));
    } finally {
      this.#inFlight--;
      this.#scheduleIdleDrop();
    }
  }

  /** Admin view of this session, or null when there is none. */
  async inspect(): Promise<SessionView | null> {
    const meta = this.#loadMeta();
    if (!meta) return null;
    const log = this.#live?.log ?? this.#eventLog();
    const counts = this.#counts();
    return {
      ...this.#record(meta),
      tenant: meta.tenant,
      nextAlarm: await this.ctx.storage.getAlarm(),
      requests: counts.requests,
      errors: counts.errors,
      pendingRequests: this.#live?.requests.pending.count ?? 0,
      loaded: this.#live !== undefined,
      eventLog: log.stats(),
    };
  }

  /** A page of the SSE event log, for admins. */
  async events(afterSeq: number, limit: number): Promise<StoredEvent[] | null> {
    if (!this.#loadMeta()) return null;
    const log = this.#live?.log ?? this.#eventLog();
    return log.page(afterSeq, Math.max(1, Math.min(1000, limit)));
  }

  /** A page of the request log, for admins. */
  async requestLog(afterSeq: number, limit: number): Promise<RequestLogEntry[] | null> {
    if (!this.#loadMeta()) return null;
    return (this.#live?.requests ?? new RequestLog(this.ctx.storage.sql, this.ctx.storage.kv)).page(afterSeq, Math.max(1, Math.min(1000, limit)));
  }

  /** Ends the session now (admin terminate, revocation); false when there was no session. */
  async terminate(cause?: SessionEndCause): Promise<boolean> {
    if (!this.#ended && !this.#loadMeta()) return false;
    await this.#end("terminated", cause);
    return true;
  }

  /**
   * Whether this object still holds a session, for the tenant's sweep of index rows past
   * their expiry. Reads only: an object that never held the session stays empty.
   */
  async probe(): Promise<{ alive: true; expiresAt: number } | { alive: false }> {
    if (this.#ended) return this.ctx.storage.kv.get(META_KEY) ? { alive: true, expiresAt: Date.now() + END_RETRY_MS } : { alive: false };
    const meta = this.#loadMeta();
    return meta ? { alive: true, expiresAt: meta.lastActivity + this.#ttlMs() } : { alive: false };
  }

  /**
   * The idle-TTL check, a due counter report, pruning of events older than the TTL, and
   * the re-drive of an end that has committed but not finished. A failure is logged and
   * reported, then rethrown so that the runtime retries the alarm with backoff: a session
   * must not outlive its TTL because one attempt failed.
   */
  async alarm(info?: AlarmInvocationInfo): Promise<void> {
    this.#alarmAt = 0;
    if (this.#ended) return this.#end(this.#ended.reason);
    const meta = this.#loadMeta();
    if (!meta) return;
    const due = this.ctx.storage.kv.get<number>(ALARM_AT_KEY) ?? Date.now();
    // Counted first, so the report this run may send carries it (and an expiry's final report does).
    this.#countAlarm(Math.max(0, Date.now() - due), false);
    const expiresAt = meta.lastActivity + this.#ttlMs();
    if (Date.now() >= expiresAt) {
      // Decided and committed in one synchronous step: no request can slip in between.
      this.#commitEnd("expired");
      return this.#end("expired");
    }
    try {
      if (this.#unreported()) await this.#report(meta);
      if (Date.now() - this.#lastPrune >= this.#ttlMs() / 10) {
        // History older than the idle TTL goes: no client can still be waiting on it.
        const log = this.#live?.log ?? this.#eventLog();
        log.pruneBefore(Date.now() - this.#ttlMs());
        this.#lastPrune = Date.now();
      }
      if (this.#ended) return;
      await this.#setAlarm(this.#unreported() ? Date.now() + REPORT_INTERVAL_MS : meta.lastActivity + this.#ttlMs());
    } catch (err) {
      logEvent("error", "session alarm failed", { tenant: meta.tenant, server: meta.server, session: meta.sessionId, retryCount: info?.retryCount ?? 0, error: String(err) });
      if (!this.#ended) this.#countAlarm(0, true);
      throw err;
    }
  }

  /**
   * One alarm run (or its failure) in the session's running totals. They reach the tenant
   * with the session's next report or its end, through its report shard: an alarm makes no
   * call of its own, so the tenant's load per active session is its reports alone. A run
   * alone does not make a report due (that would arm the next alarm, forever).
   */
  #countAlarm(lagMs: number, failed: boolean): void {
    const t = this.#alarmTotals();
    this.ctx.storage.kv.put(ALARMS_KEY, {
      runs: t.runs + (failed ? 0 : 1),
      failures: t.failures + (failed ? 1 : 0),
      lagMsTotal: t.lagMsTotal + lagMs,
      lagMsMax: Math.max(t.lagMsMax, lagMs),
    } satisfies AlarmTotals);
  }

  #alarmTotals(): AlarmTotals {
    return this.ctx.storage.kv.get<AlarmTotals>(ALARMS_KEY) ?? { runs: 0, failures: 0, lagMsTotal: 0, lagMsMax: 0 };
  }

  /** The tenant changed the server's tool policy: the session applies it and announces a list change now. */
  async policyChanged(policy: ToolPolicy | null): Promise<void> {
    this.#setPolicy(policy);
  }

  /** A policy other than the one applied so far: from now on the governed list differs, which the client hears of. */
  #setPolicy(policy: ToolPolicy | null): void {
    const meta = this.#loadMeta();
    const applied = this.#policy !== undefined ? this.#policy : (meta?.policy ?? null);
    this.#policy = policy;
    if (samePolicy(applied, policy) || !meta || this.#ended) return;
    meta.policy = policy;
    this.ctx.storage.kv.put(META_KEY, meta);
    // A session being rebuilt announces it once its transport is back (#build).
    this.#policyUnannounced = true;
    this.#announcePolicy();
  }

  #policyUnannounced = false;

  #announcePolicy(): void {
    const live = this.#live;
    if (!live || this.#ended || !this.#policyUnannounced) return;
    this.#policyUnannounced = false;
    live.transport.send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" }).catch(() => {});
  }

  // --- request path ----------------------------------------------------------

  async #handle(request: Request, call: SessionCall): Promise<Response> {
    const { principal, newSessionId } = call;
    if (call.policy !== undefined) this.#setPolicy(call.policy);
    const body = request.method === "POST" ? JSON.parse(call.body ?? (await request.text())) : undefined;

    const meta = this.#loadMeta();
    if (!meta) {
      if (!newSessionId || this.#ended) return sessionNotFound();
      return this.#open(request, body, newSessionId, call);
    }
    if (newSessionId || !samePrincipal(meta, principal)) return sessionNotFound();
    // Activity is noted before any await, so an expiry check that runs meanwhile sees it.
    meta.lastActivity = Date.now();

    if (Array.isArray(body)) {
      const revision = request.headers.get("mcp-protocol-version") ?? meta.protocolVersion;
      if (!batchesAllowed(revision)) {
        return jsonRpcErrorResponse(wire.invalidRequest(`JSON-RPC batches are not allowed in protocol revision ${revision}`));
      }
    }

    const live = await this.#ensureLive(meta, call.server);
    if (this.#ended || this.#live !== live) return sessionNotFound();
    this.#touch(meta);

    if (request.method === "GET") {
      const lastEventId = request.headers.get("last-event-id");
      if (lastEventId !== null) {
        const check = live.log.check(lastEventId);
        if (!check.ok) {
          return check.reason === "pruned-event-id"
            ? jsonRpcErrorResponse(
                wire.conflict(
                  "event_pruned",
                  `Last-Event-ID ${lastEventId} is no longer in this session's event log (it keeps the newest ${this.#config.SMCP_EVENT_LOG_MAX_EVENTS} events); open a new stream without Last-Event-ID`,
                ),
              )
            : jsonRpcErrorResponse(wire.badRequest("unknown_event_id", `Last-Event-ID ${lastEventId} does not name an event of this session`));
        }
      } else {
        // Newest stream wins: an old one the client abandoned must not block it with 409.
        live.transport.closeStandaloneSSEStream();
      }
    }

    const opensStream = request.method === "POST" ? hasRequest(body) : request.headers.get("last-event-id") !== null;
    if (opensStream && this.#streams.open >= this.#config.SMCP_MAX_STREAMS_PER_SESSION) {
      return jsonRpcErrorResponse(
        wire.tooManyRequests("too_many_streams", `This session has ${this.#streams.open} open SSE streams, the most allowed; close one first`, 1),
      );
    }

    const started = body === undefined ? [] : live.requests.received(body);
    const response = await this.#answer(live, request, body, authInfoOf(principal, { sessionId: meta.sessionId, traceparent: call.traceparent }));
    if (response.status >= 400 && !this.#ended) live.requests.rejected(started, response.status, (body as { method?: string })?.method ?? request.method);
    if (request.method === "GET" && request.headers.get("last-event-id") === null && response.ok) {
      return this.#streams.trackQuiet(primeStandaloneStream(response, live.log, meta.protocolVersion, this.#config.SMCP_SSE_RETRY_MS));
    }
    // A resumption's replay is all queued by now: it crosses to the client in few chunks.
    return this.#streams.track(request.method === "GET" && response.ok ? joinQueuedChunks(response) : response);
  }

  /**
   * A new session: bounds first, then the SDK, which admits it through the tenant in its
   * `onsessioninitialized` hook once every check of its own has passed. Until then
   * nothing is stored, here or in the tenant.
   */
  async #open(request: Request, body: unknown, sessionId: string, call: SessionCall): Promise<Response> {
    const { principal } = call;
    const params = (body as { params?: unknown } | undefined)?.params;
    const problem = initializeParamsProblem(params);
    if (problem) return jsonRpcErrorResponse(wire.invalidParams(`Invalid params: ${problem}`));
    const initParams = params as InitializeParams;
    const now = Date.now();
    const requested = initParams.protocolVersion;
    const draft: SessionMeta = {
      ...principal,
      sessionId,
      // The SDK answers an unknown revision with its newest 2025 one; record what it negotiates.
      protocolVersion: (SESSION_REVISIONS as readonly string[]).includes(requested) ? requested : LATEST_SESSION_REVISION,
      initParams,
      createdAt: now,
      lastActivity: now,
      eventLogMaxBytes: this.#config.SMCP_EVENT_LOG_MAX_BYTES,
      ...(call.policy ? { policy: call.policy } : {}),
    };
    let refusal: WireError | undefined;
    const live = await this.#build(draft, call.server, async () => {
      const admitted = await this.#admit(draft, request.url);
      if (admitted instanceof WireError) {
        refusal = admitted;
        throw admitted; // stops the SDK; the refusal is answered below
      }
    });
    const started = live.requests.received(body);
    // Not held: the initialize answer's stream is primed, which clients of the session lane resume from.
    const response = await live.transport.handleRequest(request, {
      parsedBody: body,
      authInfo: authInfoOf(principal, { sessionId, traceparent: call.traceparent }),
    });
    if (!this.#meta) {
      // Refused by the SDK (406, 415, ...) or by the tenant: nothing was stored; forget the SDK objects.
      this.#pendingLive = undefined;
      live.requests.discard();
      await live.transport.close().catch(() => {});
      if (!refusal) return response;
      await response.body?.cancel().catch(() => {});
      return jsonRpcErrorResponse(refusal);
    }
    if (response.status >= 400) {
      // Admitted, then refused by the SDK after its hook: undo through the one end path.
      live.requests.rejected(started, response.status, "initialize");
      await this.#end("refused");
    }
    return this.#streams.track(response);
  }

  /**
   * The transport's answer to a request. A POST of one request (`auto` mode) is held: it
   * goes out as one JSON body if its answer comes within the budget with nothing before
   * it, else as the SDK's SSE stream, logged and resumable (mcp/held-answer.ts).
   */
  async #answer(live: Live, request: Request, body: unknown, authInfo: ReturnType<typeof authInfoOf>): Promise<Response> {
    const id = this.#config.SMCP_SESSION_RESPONSE_MODE === "auto" && request.method === "POST" ? soleRequestId(body) : undefined;
    const held = id === undefined ? null : live.held.hold(id);
    if (!held) return live.transport.handleRequest(request, { parsedBody: body, authInfo });
    const response = await live.transport.handleRequest(request, { parsedBody: body, authInfo }).catch((err: unknown) => {
      live.held.drop(id!);
      throw err;
    });
    if (!isEventStream(response)) {
      live.held.drop(id!);
      return response;
    }
    const outcome = await held;
    return "json" in outcome ? jsonAnswer(response, outcome.json) : response;
  }

  /** The tenant admits the session (limit, live credential); only then is anything written here. */
  async #admit(meta: SessionMeta, url: string): Promise<SessionMeta | WireError> {
    const admission = await tenantStub(this.env, meta.tenant).sessionOpened(this.#record(meta), incarnationOf(meta));
    if (!admission.ok) {
      switch (admission.reason) {
        case "session-limit":
          return wire.tooManyRequests("session_limit", `This tenant may have ${admission.limit} open sessions; end one (DELETE) or wait for one to expire`);
        case "instance-limit":
          return wire.tooManyRequests(
            "instance_limit",
            `This tenant may run ${admission.limit} live instances of its deployed servers (one per session) and all are in use; end a session (DELETE) or wait for one to expire`,
          );
        case "invalid-credential":
          return wire.unauthorized("Invalid or revoked credential", resourceMetadataUrl(url, meta.tenant, meta.server));
        case "unknown-server":
          return wire.notFound("unknown_server", `Server ${meta.server} is not available`);
        case "unknown-tenant":
          return wire.sessionNotFound();
      }
    }
    meta.eventLogMaxBytes = admission.eventLogBytes;
    // Nothing was stored before admission: the session gets the final schema directly.
    const created = this.ctx.storage.transactionSync(() => {
      const schema = createSchema(this.ctx.storage, SESSION_MIGRATIONS);
      this.ctx.storage.kv.put(META_KEY, meta);
      return schema.from === 0;
    });
    this.#meta = meta;
    this.#persistedActivity = meta.lastActivity;
    this.#reportedAt = meta.lastActivity;
    const pending = this.#pendingLive;
    this.#pendingLive = undefined;
    if (pending) {
      // From here on, requests of the session find these SDK objects (no second build).
      pending.log = this.#eventLog(created);
      this.#live = pending;
    }
    // The initialize's answer is counted, so its report is due first: one alarm, set once (#counted finds it armed).
    await this.#setAlarm(Math.min(meta.lastActivity + REPORT_INTERVAL_MS, meta.lastActivity + this.#ttlMs()));
    return meta;
  }

  /** The SDK objects of a session being created, until it is admitted. */
  #pendingLive: Live | undefined;

  /** One build per instance: two requests racing after eviction must share one SDK session. */
  #ensureLive(meta: SessionMeta, ref: ServerRef | undefined): Promise<Live> {
    if (this.#live) return Promise.resolve(this.#live);
    this.#building ??= this.#build(meta, ref)
      .then((live) => {
        // An end that committed while the SDK was being rebuilt wins: nothing is kept.
        if (!this.#ended && this.#meta === meta) this.#live = live;
        this.#announcePolicy();
        return live;
      })
      .finally(() => (this.#building = undefined));
    return this.#building;
  }

  /**
   * The SDK server and transport. With `admit`, a new session: the hook admits it when
   * the SDK accepts its `initialize`. Without, a stored session whose handshake is replayed.
   */
  async #build(meta: SessionMeta, ref: ServerRef | undefined, admit?: () => Promise<void>): Promise<Live> {
    const incarnation = incarnationOf(meta);
    let module = ref ? moduleOfRef(this.env, meta.tenant, incarnation, meta.server, ref) : await resolveServerModule(this.env, meta.tenant, incarnation, meta.server);
    if (isSdkModule(module) && meta.sdkVersion !== undefined && module.sdk.version !== meta.sdkVersion) {
      module = await resolveServerVersion(this.env, meta.tenant, incarnationOf(meta), meta.server, meta.sdkVersion);
    }
    if (!module) throw wire.notFound("unknown_server", `Server ${meta.server} is not available`);
    if (isSdkModule(module)) meta.sdkVersion = module.sdk.version;
    // An upstream that serves 2026-07-28 only is reached with stateless requests (probed once per configuration and isolate).
    const modern = isUpstreamModule(module) ? modernUpstreamOf(module.upstream, module.upstream.updatedAt, this.#config.SMCP_ALLOW_LOOPBACK_EGRESS, this.#config.SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS * 1000) : null;
    const servedModern = modern !== null && (await servesModern(modern));
    const live = {} as Live;
    // The transport reaches the log through `live`, which a new session gets on admission.
    const eventStore = {
      // A priming event names the requests its stream answers: after a restart, those left unanswered get an error.
      storeEvent: async (streamId: string, message: JSONRPCMessage): Promise<string> =>
        live.held.store(streamId, message, () => requestsOnStream(live.transport, streamId)) ??
        (Object.keys(message).length === 0 ? live.log.prime(streamId, requestsOnStream(live.transport, streamId)) : live.log.storeEvent(streamId, message)),
      replayEventsAfter: (...args: Parameters<SqliteEventLog["replayEventsAfter"]>) => live.log.replayEventsAfter(...args),
    };
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => meta.sessionId,
      eventStore,
      retryInterval: this.#config.SMCP_SSE_RETRY_MS,
      enableJsonResponse: this.#config.SMCP_SESSION_RESPONSE_MODE === "json",
      maxRequestBodySize: this.#config.SMCP_MAX_BODY_BYTES,
      onsessioninitialized: admit,
      onsessionclosed: () => this.#end("deleted"),
    });
    live.transport = transport;
    live.held = new HeldAnswers(() => live.log, this.#config.SMCP_SESSION_JSON_BUDGET_MS);
    // A handler closing its request's stream (polling) needs it resumable: a held answer starts streaming first.
    const closeSSEStream = transport.closeSSEStream.bind(transport);
    transport.closeSSEStream = (requestId) => {
      live.held.closing(requestId);
      closeSSEStream(requestId);
    };
    live.backend = isSdkModule(module)
      ? this.#relay(module.sdk, meta)
      : isUpstreamModule(module)
        ? servedModern && modern
          ? this.#modernUpstream(modern, meta)
          : this.#upstream(module.upstream, meta)
        : inProcessBackend(
          module.create({
            tenant: meta.tenant,
            server: meta.server,
            store: new TenantToolStore(tenantStub(this.env, meta.tenant), meta.server, incarnationOf(meta)),
          }),
          { replay: { state: meta.replay ?? {}, save: (state) => this.#saveReplay(meta, state) }, droppable: builtInServers.has(meta.server) },
        );
    await live.backend.connect(transport);
    governTransport(transport as unknown as GovernedTransport, () => this.#policy ?? meta.policy ?? null);
    if (admit) {
      this.#pendingLive = live;
    } else {
      live.log = this.#eventLog();
      if (!this.#droppedClean) interruptUnanswered(live.log);
      await live.backend.restore(transport, meta.sessionId, meta.initParams);
    }
    const requests = new RequestLog(this.ctx.storage.sql, this.ctx.storage.kv, () => this.#counted());
    requests.serverKind = serverKindOf(meta.server, module);
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if (!this.#ended) requests.sent(message);
      return send(message, options);
    };
    live.requests = requests;
    return live;
  }

  /** What the client set (log level, subscriptions), kept with the session for a relay to replay; never after the end committed. */
  #saveReplay(meta: SessionMeta, state: ReplayState): void {
    if (this.#ended || this.#meta !== meta) return;
    meta.replay = state;
    this.ctx.storage.kv.put(META_KEY, meta);
  }

  /** A relay's backend refused the session's start: it ends, after the error answer has gone out on the initialize's stream. */
  #endAfterRefusal(): void {
    this.ctx.waitUntil(new Promise((r) => setTimeout(r, 100)).then(() => this.#end("refused")));
  }

  /** The relay to an upstream that serves 2026-07-28 only: this session's requests go upstream as stateless ones. */
  #modernUpstream(upstream: ModernUpstream, meta: SessionMeta): ModernSessionRelay {
    return new ModernSessionRelay({
      upstream,
      state: meta.replay ?? {},
      saveState: (state) => this.#saveReplay(meta, state),
      initializeFailed: () => this.#endAfterRefusal(),
    });
  }

  /** The relay to an upstream server: one upstream session of this session's own. */
  #upstream(upstream: UpstreamServing, meta: SessionMeta): UpstreamRelay {
    return new UpstreamRelay({
      state: meta.replay ?? {},
      saveState: (state) => this.#saveReplay(meta, state),
      server: upstream.server,
      url: upstream.url,
      allowLoopback: this.#config.SMCP_ALLOW_LOOPBACK_EGRESS,
      headers: () => upstream.headers(),
      callTimeoutMs: this.#config.SMCP_UPSTREAM_CALL_TIMEOUT_SECONDS * 1000,
      console: (level, line) => logEvent(level === "error" ? "error" : level === "info" ? "info" : "warn", line, { server: upstream.server }),
      initializeFailed: () => this.#endAfterRefusal(),
    });
  }

  /** The relay to a deployed SDK server's instance, which this session starts (and rebuilds) on demand. */
  #relay(sdk: SdkServing, meta: SessionMeta): SandboxRelay {
    const console = new ConsoleKeeper(this.env, sdk, (p) => this.ctx.waitUntil(p));
    return new SandboxRelay({
      server: meta.server,
      version: sdk.version,
      start: (events) => sdk.start(meta.sessionId, events),
      callTimeoutMs: this.#config.SMCP_SDK_CALL_TIMEOUT_SECONDS * 1000,
      state: meta.replay ?? {},
      saveState: (state) => this.#saveReplay(meta, state),
      console: (level, line) => console.keep(level, line),
      record: (_method, error) => sdk.record(error),
      startFailed: () => this.#endAfterRefusal(),
    });
  }

  /**
   * Records activity. The timestamp is persisted at most every few seconds, not on
   * every request: the alarm only needs it to the precision of the TTL, and a write
   * per request would cost every call a storage round trip. Never after the end committed.
   */
  #touch(meta: SessionMeta): void {
    if (this.#ended || this.#meta !== meta) return;
    const now = Date.now();
    meta.lastActivity = now;
    if (now - this.#persistedActivity >= Math.min(30_000, this.#ttlMs() / 10)) {
      this.#persistedActivity = now;
      this.ctx.storage.kv.put(META_KEY, meta);
    }
    if (now - this.#reportedAt >= REPORT_INTERVAL_MS) this.ctx.waitUntil(this.#report(meta));
  }

  /** The counters changed: report now if the interval allows, else make sure an alarm will. */
  #counted(): void {
    const meta = this.#meta;
    if (!meta || this.#ended) return;
    // An answer that came after its stream was gone leaves the session idle too.
    this.#scheduleIdleDrop();
    const due = this.#reportedAt + REPORT_INTERVAL_MS;
    if (Date.now() >= due) {
      this.ctx.waitUntil(this.#report(meta));
    } else if (this.#alarmAt === 0 || this.#alarmAt > due) {
      this.ctx.waitUntil(this.#setAlarm(due).catch(() => {}));
    }
  }

  /** Sends the running totals with the next seq; the acknowledged totals are kept, so a lost report is resent. */
  #report(meta: SessionMeta): Promise<void> {
    this.#reporting ??= (async () => {
      this.#reportedAt = Date.now();
      const update = this.#nextUpdate(meta);
      // Through the session's report shard (tenant/report-shard-do.ts), which batches it to the tenant.
      const target = reportTarget(this.env, meta.tenant, meta.sessionId);
      const ack = target
        ? await target.stub.report(meta.tenant, target.shard, meta.sessionId, update)
        : await tenantStub(this.env, meta.tenant).sessionTouched(meta.sessionId, update);
      if (ack.ok && !this.#ended) {
        const state = this.#reportState();
        if (ack.seq === state.seq) this.#putReportState({ seq: state.seq, acked: { requests: update.requests, errors: update.errors } });
        this.#requestLog().ackMetrics(ack.seq);
      }
    })()
      .catch((err) => logEvent("warn", "session report failed", { tenant: meta.tenant, session: meta.sessionId, error: String(err) }))
      .finally(() => (this.#reporting = undefined));
    return this.#reporting;
  }

  /** Kept in memory too: this object is its only writer, and a report (every few seconds) read it twice. */
  #reportCache: ReportState | undefined;

  #reportState(): ReportState {
    return (this.#reportCache ??= this.ctx.storage.kv.get<ReportState>(REPORT_KEY) ?? { seq: 0, acked: { requests: 0, errors: 0 } });
  }

  #putReportState(state: ReportState): void {
    this.#reportCache = state;
    this.ctx.storage.kv.put(REPORT_KEY, state);
  }

  /** Whether the tenant has not yet acknowledged every counted request. */
  #unreported(): boolean {
    const { acked } = this.#reportState();
    const counts = this.#counts();
    return counts.requests !== acked.requests || counts.errors !== acked.errors;
  }

  /** The live request log, or one over the stored state when the SDK objects are not built (an alarm after eviction). */
  #requestLog(): RequestLog {
    return this.#live?.requests ?? new RequestLog(this.ctx.storage.sql, this.ctx.storage.kv);
  }

  #counts(): RequestCounts {
    return this.#live?.requests.counts ?? { requests: 0, errors: 0, ...this.ctx.storage.kv.get<RequestCounts>(REQUEST_COUNTS_KEY) };
  }

  /** The next report; its seq is stored before it is sent, so no seq is reused after an eviction. */
  #nextUpdate(meta: SessionMeta): SessionUpdate {
    const state = this.#reportState();
    const seq = state.seq + 1;
    this.#putReportState({ ...state, seq });
    // One request log for the counts and the metrics (without the SDK objects each would read the stored state).
    const requests = this.#requestLog();
    const counts = requests.counts;
    const log = this.#live?.log;
    const eventBytes = log ? log.stats().bytes : this.ctx.storage.sql.exec<{ b: number | null }>("SELECT sum(bytes) AS b FROM events").one().b ?? 0;
    const alarms = this.ctx.storage.kv.get<AlarmTotals>(ALARMS_KEY);
    return {
      seq,
      lastActivity: meta.lastActivity,
      expiresAt: meta.lastActivity + this.#ttlMs(),
      requests: counts.requests,
      errors: counts.errors,
      eventBytes,
      metrics: requests.takeMetrics(seq),
      ...(alarms ? { alarms } : {}),
    };
  }

  /**
   * Arms the idle check: after `IDLE_DROP_MS` without a request, with no stream open,
   * no request in flight and no build under way, the SDK objects (backend, transport,
   * server) go; the next request rebuilds them through the restore path (#ensureLive),
   * with the client's protocol state replayed from `meta.replay`. A timer, not the
   * alarm: dropping writes nothing, and an object evicted first loses them anyway.
   * Only backends in this isolate are dropped (SessionBackend.droppable): a relay's
   * sandbox instance or upstream session costs a start to rebuild, so it stays until
   * the session ends or the object is evicted.
   */
  #scheduleIdleDrop(): void {
    if (this.#idleTimer !== undefined || !this.#live?.backend.droppable || this.#ended) return;
    const meta = this.#meta;
    if (!meta) return;
    const wait = Math.max(0, meta.lastActivity + IDLE_DROP_MS - Date.now());
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#dropIfIdle();
    }, wait);
  }

  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  #dropIfIdle(): void {
    const live = this.#live;
    const meta = this.#meta;
    if (!live || !meta || this.#ended) return;
    // Busy: the request's end, the stream's end or the last answer arms the check again.
    if (this.#building || this.#inFlight > 0 || live.requests.pending.count > 0) return;
    if (Date.now() < meta.lastActivity + IDLE_DROP_MS) return this.#scheduleIdleDrop();
    if (this.#streams.open > 0) {
      // A GET stream whose client left is noticed only at a write: one comment, and each such stream ends.
      this.#streams.probe();
      return;
    }
    // The rebuilt objects read the request log's totals from storage: what waits is written first.
    live.requests.flush();
    this.#live = undefined;
    this.#droppedClean = true;
    this.ctx.waitUntil(live.backend.close().then(() => live.transport.close()).catch(() => {}));
  }

  async #setAlarm(at: number): Promise<void> {
    this.#alarmAt = at;
    this.ctx.storage.kv.put(ALARM_AT_KEY, at);
    await this.ctx.storage.setAlarm(at);
  }

  /** The commit point of an end: one durable write, with the alarm that re-drives it. Synchronous. */
  #commitEnd(reason: SessionEndReason, cause?: SessionEndCause): void {
    if (this.#ended) return;
    const at = Date.now();
    this.#ended = cause ? { reason, at, cause } : { reason, at };
    this.ctx.storage.kv.put(ENDED_KEY, this.#ended);
    this.#alarmAt = at + END_RETRY_MS;
    this.ctx.storage.kv.put(ALARM_AT_KEY, this.#alarmAt);
    this.ctx.storage.setAlarm(this.#alarmAt).catch(() => {});
  }

  /** Ends the session: commits at once (if not yet), then finishes once however many callers ask. */
  async #end(reason: SessionEndReason, cause?: SessionEndCause): Promise<void> {
    if (!this.#ended) {
      if (!this.#loadMeta()) return;
      this.#commitEnd(reason, cause);
    }
    this.#finishing ??= this.#finish().finally(() => (this.#finishing = undefined));
    return this.#finishing;
  }

  /** After the commit: close the streams, tell the tenant, then delete everything. A failure leaves the alarm to retry. */
  async #finish(): Promise<void> {
    const meta = this.#meta ?? this.ctx.storage.kv.get<SessionMeta>(META_KEY);
    const ended = this.#ended!;
    const live = this.#live;
    // The final report reads the totals from storage once the SDK objects are gone: what waits is written first, then nothing more.
    live?.requests.flush();
    live?.requests.discard();
    this.#live = undefined;
    this.#meta = undefined;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    await live?.backend.close();
    await live?.transport.close().catch(() => {});
    if (!meta) return; // already finished by an earlier run
    try {
      await this.#reporting;
      // The shard adds the deltas it still holds for this session, so the tenant's totals are complete at the end.
      const target = reportTarget(this.env, meta.tenant, meta.sessionId);
      const final = this.#nextUpdate(meta);
      if (target) await target.stub.sessionClosed(meta.tenant, target.shard, meta.sessionId, ended.reason, final, ended.cause);
      else await tenantStub(this.env, meta.tenant).sessionClosed(meta.sessionId, ended.reason, final, ended.cause);
    } catch (err) {
      logEvent("warn", "session end not yet reported", { tenant: meta.tenant, session: meta.sessionId, error: String(err) });
      // The committed end and its data stay; the alarm re-drives it.
      await this.#setAlarm(Date.now() + END_RETRY_MS).catch(() => {});
      return;
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#reportCache = undefined;
    this.#alarmAt = 0;
    logEvent("info", "session ended", { tenant: meta.tenant, server: meta.server, session: meta.sessionId, reason: ended.reason });
  }

  #loadMeta(): SessionMeta | undefined {
    if (this.#ended) return undefined;
    this.#meta ??= this.ctx.storage.kv.get<SessionMeta>(META_KEY);
    return this.#meta;
  }

  #record(meta: SessionMeta): SessionRecord {
    return {
      id: meta.sessionId,
      server: meta.server,
      keyId: meta.keyId,
      grantId: meta.grantId ?? null,
      protocolVersion: meta.protocolVersion,
      clientInfo: (meta.initParams?.clientInfo ?? null) as ClientInfo,
      createdAt: meta.createdAt,
      lastActivity: meta.lastActivity,
      expiresAt: meta.lastActivity + this.#ttlMs(),
    };
  }

  #ttlMs(): number {
    return this.#config.SMCP_SESSION_TTL_SECONDS * 1000;
  }

  /** The session's event log, its pruned mark in KV (written only when pruning); `created`: its table was made just now. */
  #eventLog(created = false): SqliteEventLog {
    const kv = this.ctx.storage.kv;
    return new SqliteEventLog(
      this.ctx.storage.sql,
      this.#limits(),
      {
        get: () => kv.get<number>(EVENT_LOG_PRUNED_KEY) ?? 0,
        set: (seq) => kv.put(EVENT_LOG_PRUNED_KEY, seq),
      },
      created,
    );
  }

  #limits() {
    const maxBytes = this.#meta?.eventLogMaxBytes ?? this.#config.SMCP_EVENT_LOG_MAX_BYTES;
    return { maxEvents: this.#config.SMCP_EVENT_LOG_MAX_EVENTS, maxBytes };
  }
}

/**
 * Requests that were in flight when the previous instance of this object stopped (a
 * restart, an eviction, a crash) will never be answered: each gets an error on its own
 * stream now, which a client resuming with `Last-Event-ID` receives (SPEC section 3).
 */
function interruptUnanswered(log: SqliteEventLog): void {
  for (const { streamId, id } of log.unanswered()) {
    log.append(
      streamId,
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        error: {
          code: -32603,
          message: "Request interrupted: the session's server stopped (a restart or an eviction) before answering; it may or may not have taken effect. Send it again if that is safe",
        },
      }),
    );
  }
}

const hasRequest = (body: unknown) =>
  (Array.isArray(body) ? body : [body]).some((m) => typeof m === "object" && m !== null && "method" in m && "id" in m);

const sessionNotFound = () => jsonRpcErrorResponse(wire.sessionNotFound());
