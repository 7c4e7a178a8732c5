/**
 * SessionDO: one MCP session of the session lane (2025 revisions).
 *
 * It owns the session's SDK server and transport, its SSE event log in SQLite and its
 * idle-TTL alarm. What must survive eviction or a restart (the session's identity,
 * its principal, the client's `initialize` params, the event log) is in SQLite; the
 * SDK objects are rebuilt from it on the next request. A Durable Object that holds no
 * session writes nothing: every path for an unknown id reads, answers 404 and stops.
 */
import { DurableObject } from "cloudflare:workers";
import { WebStandardStreamableHTTPServerTransport, type McpServer } from "@modelcontextprotocol/server";
import {
  SESSION_REVISIONS,
  LATEST_SESSION_REVISION,
  SqliteEventLog,
  batchesAllowed,
  jsonRpcErrorResponse,
  platformConfig,
  toWireError,
  wire,
  WireError,
  type PlatformConfig,
  type ClientInfo,
  type StoredEvent,
} from "@smcp/runtime";
import { tenantStub, type Env } from "./env";
import { NEW_SESSION_HEADER, authInfoOf, incarnationOf, readPrincipal, samePrincipal, type Principal } from "./mcp/principal";
import { restoreInitializedSession, type InitializeParams } from "./mcp/restore-session";
import { primeStandaloneStream } from "./mcp/priming";
import { StreamCounter } from "./mcp/stream-counter";
import { RequestLog, type RequestLogEntry } from "./mcp/request-log";
import { SESSION_MIGRATIONS } from "./session-schema";
import { migrate } from "./storage/migrations";
import { TenantToolStore } from "./tool-store";
import type { SessionRecord, SessionUpdate } from "./tenant-do";
import { logEvent } from "./log";
import { resolveServerModule } from "./sandbox/resolve-server";

const META_KEY = "meta";
/** When the pending alarm was due, to measure how late it ran. */
const ALARM_AT_KEY = "alarmAt";

const REPORT_INTERVAL_MS = 5_000;

type EndReason = "deleted" | "expired" | "terminated";

export interface SessionMeta extends Principal {
  sessionId: string;
  protocolVersion: string;
  initParams: InitializeParams;
  createdAt: number;
  lastActivity: number;
  /** The tenant's event-log byte bound when the session was created. */
  eventLogMaxBytes: number;
}

/** The admin view of a live session: its index record plus what only the session knows. */
export interface SessionView extends SessionRecord {
  tenant: string;
  nextAlarm: number | null;
  /** Since the session object last started (eviction resets them; the tenant keeps totals). */
  requests: number;
  errors: number;
  eventLog: { events: number; bytes: number; lastSeq: number; prunedThrough: number };
}

interface Live {
  mcp: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  log: SqliteEventLog;
  requests: RequestLog;
}

export class SessionDO extends DurableObject<Env> {
  #config: PlatformConfig;
  #meta: SessionMeta | undefined;
  #live: Live | undefined;
  #building: Promise<Live> | undefined;
  #persistedActivity = 0;
  #reportedActivity = 0;
  #streams = new StreamCounter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = platformConfig(env);
    // Only an object that holds a session has a schema to upgrade; an unknown id stays empty.
    if (this.#loadMeta()) migrate(ctx.storage, SESSION_MIGRATIONS);
  }

  async fetch(request: Request): Promise<Response> {
    try {
      return await this.#handle(request);
    } catch (err) {
      return jsonRpcErrorResponse(toWireError(err, (detail) => console.error("session-do: unexpected error", detail)));
    }
  }

  /** Admin view of this session, or null when there is none. */
  async inspect(): Promise<SessionView | null> {
    const meta = this.#loadMeta();
    if (!meta) return null;
    const log = this.#live?.log ?? new SqliteEventLog(this.ctx.storage.sql, this.#limits());
    return {
      ...this.#record(meta),
      tenant: meta.tenant,
      nextAlarm: await this.ctx.storage.getAlarm(),
      requests: this.#live?.requests.requests ?? 0,
      errors: this.#live?.requests.errors ?? 0,
      eventLog: log.stats(),
    };
  }

  /** A page of the SSE event log, for admins. */
  async events(afterSeq: number, limit: number): Promise<StoredEvent[] | null> {
    if (!this.#loadMeta()) return null;
    const log = this.#live?.log ?? new SqliteEventLog(this.ctx.storage.sql, this.#limits());
    return log.page(afterSeq, Math.max(1, Math.min(1000, limit)));
  }

  /** A page of the request log, for admins. */
  async requestLog(afterSeq: number, limit: number): Promise<RequestLogEntry[] | null> {
    if (!this.#loadMeta()) return null;
    return (this.#live?.requests ?? new RequestLog(this.ctx.storage.sql)).page(afterSeq, Math.max(1, Math.min(1000, limit)));
  }

  /** Ends the session now (admin terminate); false when there was no session. */
  async terminate(): Promise<boolean> {
    if (!this.#loadMeta()) return false;
    await this.#end("terminated");
    return true;
  }

  /**
   * The idle-TTL check, and pruning of events older than the TTL. A failure is logged and reported, then rethrown so that the
   * runtime retries the alarm with backoff: a session must not outlive its TTL
   * because one attempt failed.
   */
  async alarm(info?: AlarmInvocationInfo): Promise<void> {
    const meta = this.#loadMeta();
    if (!meta) return;
    const due = this.ctx.storage.kv.get<number>(ALARM_AT_KEY) ?? Date.now();
    const lagMs = Math.max(0, Date.now() - due);
    const tenant = tenantStub(this.env, meta.tenant);
    try {
      const expiresAt = meta.lastActivity + this.#ttlMs();
      if (Date.now() >= expiresAt) {
        await tenant.recordAlarm(lagMs, true);
        await this.#end("expired");
      } else {
        // History older than the idle TTL goes: no client can still be waiting on it.
        const log = this.#live?.log ?? new SqliteEventLog(this.ctx.storage.sql, this.#limits());
        log.pruneBefore(Date.now() - this.#ttlMs());
        await this.#setAlarm(expiresAt);
        await tenant.recordAlarm(lagMs, true);
      }
    } catch (err) {
      logEvent("error", "session alarm failed", { tenant: meta.tenant, server: meta.server, session: meta.sessionId, retryCount: info?.retryCount ?? 0, error: String(err) });
      await tenant.recordAlarm(lagMs, false).catch(() => {});
      throw err;
    }
  }

  // --- request path ----------------------------------------------------------

  async #handle(request: Request): Promise<Response> {
    const principal = readPrincipal(request);
    if (!principal) throw new Error("request reached SessionDO without a principal");
    const body = request.method === "POST" ? JSON.parse(await request.text()) : undefined;

    let meta = this.#loadMeta();
    const newSessionId = request.headers.get(NEW_SESSION_HEADER);
    if (!meta) {
      if (!newSessionId) return sessionNotFound();
      const created = await this.#create(newSessionId, principal, body as { params: InitializeParams });
      if (created instanceof WireError) return jsonRpcErrorResponse(created);
      meta = created;
    } else if (newSessionId || !samePrincipal(meta, principal)) {
      return sessionNotFound();
    }

    if (Array.isArray(body)) {
      const revision = request.headers.get("mcp-protocol-version") ?? meta.protocolVersion;
      if (!batchesAllowed(revision)) {
        return jsonRpcErrorResponse(wire.invalidRequest(`JSON-RPC batches are not allowed in protocol revision ${revision}`));
      }
    }

    const live = await this.#ensureLive(meta, newSessionId === null);
    this.#touch(meta, live);

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
    const response = await live.transport.handleRequest(request, {
      parsedBody: body,
      authInfo: authInfoOf(principal, { sessionId: meta.sessionId, traceparent: request.headers.get("traceparent") ?? undefined }),
    });
    if (response.status >= 400) live.requests.rejected(started, response.status, (body as { method?: string })?.method ?? request.method);
    if (request.method === "GET" && request.headers.get("last-event-id") === null && response.ok) {
      return this.#streams.track(primeStandaloneStream(response, live.log, meta.protocolVersion, this.#config.SMCP_SSE_RETRY_MS));
    }
    return this.#streams.track(response);
  }

  /** Admits the session with the tenant first: a refused session writes nothing here. */
  async #create(sessionId: string, principal: Principal, initialize: { params: InitializeParams }): Promise<SessionMeta | WireError> {
    const now = Date.now();
    const requested = initialize.params.protocolVersion;
    const meta: SessionMeta = {
      ...principal,
      sessionId,
      // The SDK answers an unknown revision with its newest 2025 one; record what it negotiates.
      protocolVersion: (SESSION_REVISIONS as readonly string[]).includes(requested) ? requested : LATEST_SESSION_REVISION,
      initParams: initialize.params,
      createdAt: now,
      lastActivity: now,
      eventLogMaxBytes: this.#config.SMCP_EVENT_LOG_MAX_BYTES,
    };
    const admission = await tenantStub(this.env, principal.tenant).sessionOpened(this.#record(meta), incarnationOf(meta));
    if (!admission.ok) {
      return admission.reason === "session-limit"
        ? wire.tooManyRequests("session_limit", `This tenant may have ${admission.limit} open sessions; end one (DELETE) or wait for one to expire`)
        : wire.notFound("session_not_found", "Session not found");
    }
    meta.eventLogMaxBytes = admission.eventLogBytes;
    this.ctx.storage.transactionSync(() => {
      migrate(this.ctx.storage, SESSION_MIGRATIONS);
      this.ctx.storage.kv.put(META_KEY, meta);
    });
    this.#meta = meta;
    this.#persistedActivity = now;
    this.#reportedActivity = now;
    await this.#setAlarm(now + this.#ttlMs());
    return meta;
  }

  /** One build per instance: two requests racing after eviction must share one SDK session. */
  #ensureLive(meta: SessionMeta, restore: boolean): Promise<Live> {
    if (this.#live) return Promise.resolve(this.#live);
    this.#building ??= this.#build(meta, restore).finally(() => (this.#building = undefined));
    return this.#building;
  }

  async #build(meta: SessionMeta, restore: boolean): Promise<Live> {
    const module = await resolveServerModule(this.env, meta.tenant, incarnationOf(meta), meta.server);
    if (!module) throw wire.notFound("unknown_server", `Server ${meta.server} is not available`);
    const mcp = module.create({
      tenant: meta.tenant,
      server: meta.server,
      store: new TenantToolStore(tenantStub(this.env, meta.tenant), meta.server, incarnationOf(meta)),
    });
    const log = new SqliteEventLog(this.ctx.storage.sql, this.#limits());
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => meta.sessionId,
      eventStore: log,
      retryInterval: this.#config.SMCP_SSE_RETRY_MS,
      enableJsonResponse: this.#config.SMCP_SESSION_RESPONSE_MODE === "json",
      maxRequestBodySize: this.#config.SMCP_MAX_BODY_BYTES,
      onsessionclosed: () => this.#end("deleted"),
    });
    await mcp.connect(transport);
    if (restore) await restoreInitializedSession(mcp, transport, meta.sessionId, meta.initParams);
    const requests = new RequestLog(this.ctx.storage.sql);
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      requests.sent(message);
      return send(message, options);
    };
    this.#live = { mcp, transport, log, requests };
    return this.#live;
  }

  /**
   * Records activity. The timestamp is persisted at most every few seconds, not on
   * every request: the alarm only needs it to the precision of the TTL, and a write
   * per request would cost every call a storage round trip.
   */
  #touch(meta: SessionMeta, live: Live): void {
    const now = Date.now();
    meta.lastActivity = now;
    if (now - this.#persistedActivity >= Math.min(30_000, this.#ttlMs() / 10)) {
      this.#persistedActivity = now;
      this.ctx.storage.kv.put(META_KEY, meta);
    }
    // The tenant's index and health counters lag by at most this much.
    if (now - this.#reportedActivity >= REPORT_INTERVAL_MS) {
      this.#reportedActivity = now;
      this.ctx.waitUntil(tenantStub(this.env, meta.tenant).sessionTouched(meta.sessionId, this.#update(meta, live)).catch(() => {}));
    }
  }

  #update(meta: SessionMeta, live: Live | undefined): SessionUpdate {
    return {
      lastActivity: meta.lastActivity,
      expiresAt: meta.lastActivity + this.#ttlMs(),
      requests: live?.requests.requests ?? 0,
      errors: live?.requests.errors ?? 0,
      eventBytes: live?.log.stats().bytes ?? 0,
    };
  }

  async #setAlarm(at: number): Promise<void> {
    this.ctx.storage.kv.put(ALARM_AT_KEY, at);
    await this.ctx.storage.setAlarm(at);
  }

  async #end(reason: EndReason): Promise<void> {
    const meta = this.#loadMeta();
    const live = this.#live;
    const final = meta && live ? this.#update(meta, live) : undefined;
    this.#live = undefined;
    this.#meta = undefined;
    await live?.transport.close();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    if (meta) {
      logEvent("info", "session ended", { tenant: meta.tenant, server: meta.server, session: meta.sessionId, reason });
      await tenantStub(this.env, meta.tenant).sessionClosed(meta.sessionId, reason, final);
    }
  }

  #loadMeta(): SessionMeta | undefined {
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

  #limits() {
    const maxBytes = this.#meta?.eventLogMaxBytes ?? this.#config.SMCP_EVENT_LOG_MAX_BYTES;
    return { maxEvents: this.#config.SMCP_EVENT_LOG_MAX_EVENTS, maxBytes };
  }
}

const hasRequest = (body: unknown) =>
  (Array.isArray(body) ? body : [body]).some((m) => typeof m === "object" && m !== null && "method" in m && "id" in m);

const sessionNotFound = () => jsonRpcErrorResponse(wire.notFound("session_not_found", "Session not found"));
