/**
 * The request log of one session: method, tool, outcome and duration of every
 * JSON-RPC request, in the session's SQLite, for admins asking "what did it do and
 * why did it fail". Outcomes are taken from the responses the SDK sends (so an SSE
 * answer is logged when it is complete) and from HTTP rejections the SDK answers
 * before any handler runs. Bounded: the newest `MAX_ROWS` rows are kept.
 *
 * Everything a client names (its JSON-RPC id, method, tool) is cut to `MAX_FIELD_CHARS`
 * before it is kept in memory or stored. Requests waiting for their answer are held in
 * a map bounded by count and by an estimate of bytes; an entry leaves it when its
 * request is answered, refused with an HTTP error, cancelled (`notifications/cancelled`),
 * or abandoned (older than `PENDING_TTL_MS`, or pushed out by the bound). Abandoned and
 * cancelled requests are logged too, so nothing a client started goes unaccounted.
 *
 * The counters (requests, errors) are kept in the session's KV as running totals; the
 * session reports them to the tenant (session-do.ts). The metrics delta of the session
 * (metrics/delta.ts: per minute, method and tool, errors by kind and latency buckets)
 * rides in the same KV value, written by the same put: metrics cost no write of their own.
 * A report takes the open delta (`takeMetrics`) and keeps it, with the report's seq, until
 * the tenant acknowledges that seq (`ackMetrics`).
 *
 * Written in batches, not per request: a logged request waits in memory (at most
 * `FLUSH_AFTER_MS`, `MAX_UNWRITTEN` rows) and goes out with its neighbours in one write
 * of rows and totals, so a call whose answer stores nothing else writes nothing at all.
 * Every read (a page, a report's totals) and every drop of the SDK objects writes what
 * waits first. The pending flush timer keeps the object from idle eviction (Cloudflare,
 * compatibility date 2026-10-01 or later: pending `setTimeout` timers prevent it), so
 * only an abrupt reset (a crash, an `immediate` code update) can lose what waits: at
 * most `FLUSH_AFTER_MS` of rows and counts (docs/architecture.md, "Request log: written in batches").
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { kindOfHttpStatus, kindOfRpcError, type ErrorKind, type ServerKind } from "../metrics/error-kinds";
import { isEmpty, record, type MetricsDelta } from "../metrics/delta";
import { metricsEnabled } from "../metrics/switch";

/** The request log's first schema (the session's migration step 2, as it shipped); new sessions get `REQUEST_LOG_TABLE`. */
export const REQUEST_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  rpc_id TEXT,
  method TEXT NOT NULL,
  tool TEXT,
  status TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  error TEXT
);
`;

/**
 * The request log's table. `seq` is a plain INTEGER PRIMARY KEY: pruning drops the
 * oldest rows and keeps the newest, so a seq is never handed out twice without
 * AUTOINCREMENT and its `sqlite_sequence` page.
 */
export const REQUEST_LOG_TABLE = `
CREATE TABLE requests (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  rpc_id TEXT,
  method TEXT NOT NULL,
  tool TEXT,
  status TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  error TEXT
);
`;

/** KV key of the session's running request/error totals (see docs/storage-schema.md). */
export const REQUEST_COUNTS_KEY = "requestCounts";

const MAX_ROWS = 1000;
/** How long a logged request may wait in memory before it is written. */
export const FLUSH_AFTER_MS = 1000;
/** Rows waiting to be written; one more writes them at once. Each is at most ~1.5 KB (three cut fields, a 500-char error). */
export const MAX_UNWRITTEN = 64;
/** Longest id, method or tool name kept, in UTF-16 code units. */
export const MAX_FIELD_CHARS = 200;
export const MAX_PENDING = 256;
/** Estimate per entry: its three strings (2 bytes a code unit) plus a fixed overhead for the map slot and object. */
export const MAX_PENDING_BYTES = 128 * 1024;
const ENTRY_OVERHEAD_BYTES = 96;
/** A request not answered within this long is taken as abandoned (its stream is long gone). */
export const PENDING_TTL_MS = 15 * 60 * 1000;

export interface RequestLogEntry {
  seq: number;
  at: number;
  rpcId: string | null;
  method: string;
  tool: string | null;
  /** `ok`, `error` (a JSON-RPC error response), `http-<status>` (rejected before dispatch), `cancelled` or `abandoned`. */
  status: string;
  durationMs: number;
  error: string | null;
}

export interface RequestCounts {
  requests: number;
  errors: number;
  /** The metrics not yet acknowledged by the tenant (absent: none). */
  metrics?: SessionMetrics;
}

/** A delta sent in a report and not yet acknowledged, with that report's seq. */
export interface SentDelta {
  seq: number;
  delta: MetricsDelta;
}

export interface SessionMetrics {
  /** Counted since the last report. */
  open: MetricsDelta;
  /** Sent and not acknowledged, oldest first; at most `MAX_UNACKED_DELTAS` (older ones are dropped). */
  sent: SentDelta[];
}

/** Reports whose deltas may be waiting for their acknowledgement; an older one is given up. */
export const MAX_UNACKED_DELTAS = 4;

/** Inserts a JSON array of `Unwritten` rows in their order. */
const INSERT_BATCH = `INSERT INTO requests (at, rpc_id, method, tool, status, duration_ms, error)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?) ORDER BY key`;

/** A row of the log not yet written. */
type Unwritten = [at: number, rpcId: string | null, method: string, tool: string | null, status: string, durationMs: number, error: string | null];

interface Pending {
  key: string;
  method: string;
  tool: string | null;
  at: number;
  bytes: number;
}

type Message = {
  id?: unknown;
  method?: unknown;
  params?: { name?: unknown; requestId?: unknown };
  error?: { code?: unknown; message?: unknown };
  result?: unknown;
};

const cut = (text: string) => (text.length > MAX_FIELD_CHARS ? text.slice(0, MAX_FIELD_CHARS) : text);
const idKey = (id: unknown) => cut(JSON.stringify(id) ?? "null");

export interface PendingBounds {
  maxPending: number;
  maxPendingBytes: number;
  pendingTtlMs: number;
}

const PENDING_BOUNDS: PendingBounds = { maxPending: MAX_PENDING, maxPendingBytes: MAX_PENDING_BYTES, pendingTtlMs: PENDING_TTL_MS };

export class RequestLog {
  readonly #sql: SqlStorage;
  readonly #kv: SyncKvStorage;
  readonly #onCounted: () => void;
  readonly #bounds: PendingBounds;
  readonly #pending = new Map<string, Pending>();
  #pendingBytes = 0;
  #counts: RequestCounts;
  #unwritten: Unwritten[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the session's storage is going (its end): nothing is written after. */
  #discarded = false;
  /** The kind of server the session runs, for error kinds that are the server's (set once the backend is known). */
  serverKind: ServerKind = "built-in";

  /** `onCounted` runs after the counters changed, so the session can schedule a report. `bounds` are for tests. */
  constructor(sql: SqlStorage, kv: SyncKvStorage, onCounted: () => void = () => {}, bounds: Partial<PendingBounds> = {}) {
    this.#sql = sql;
    this.#kv = kv;
    this.#onCounted = onCounted;
    this.#bounds = { ...PENDING_BOUNDS, ...bounds };
    this.#counts = { requests: 0, errors: 0, ...kv.get<RequestCounts>(REQUEST_COUNTS_KEY) };
  }

  get counts(): RequestCounts {
    return { requests: this.#counts.requests, errors: this.#counts.errors };
  }

  /**
   * The deltas of a report with `seq`: the open delta becomes the one sent under `seq`,
   * and every delta still unacknowledged goes along (the tenant applies each seq once).
   */
  takeMetrics(seq: number): SentDelta[] {
    // The report's totals and the stored ones agree: what waits is written first.
    this.flush();
    const metrics = this.#counts.metrics;
    if (!metrics) return [];
    if (!isEmpty(metrics.open)) {
      metrics.sent.push({ seq, delta: metrics.open });
      metrics.open = {};
      if (metrics.sent.length > MAX_UNACKED_DELTAS) metrics.sent.splice(0, metrics.sent.length - MAX_UNACKED_DELTAS);
      this.#kv.put(REQUEST_COUNTS_KEY, this.#counts);
    }
    return metrics.sent;
  }

  /** The tenant applied every report up to `seq`: their deltas are done. */
  ackMetrics(seq: number): void {
    const metrics = this.#counts.metrics;
    if (!metrics || metrics.sent.length === 0) return;
    metrics.sent = metrics.sent.filter((d) => d.seq > seq);
    this.#kv.put(REQUEST_COUNTS_KEY, this.#counts);
  }

  /** Size of the in-flight map, for the admin view and tests. */
  get pending(): { count: number; bytes: number } {
    return { count: this.#pending.size, bytes: this.#pendingBytes };
  }

  /** Notes the requests of a POST body (and cancellations); returns them so an HTTP rejection can be logged. */
  received(body: unknown): Pending[] {
    const now = Date.now();
    this.#expire(now);
    const messages = (Array.isArray(body) ? body : [body]) as Message[];
    const started: Pending[] = [];
    for (const m of messages) {
      if (m?.method === "notifications/cancelled" && m.params?.requestId !== undefined) {
        this.#settle(idKey(m.params.requestId), "cancelled", null);
        continue;
      }
      if (typeof m?.method !== "string" || m.id === undefined) continue;
      const key = idKey(m.id);
      const method = cut(m.method);
      const tool = m.method === "tools/call" && typeof m.params?.name === "string" ? cut(m.params.name) : null;
      const entry: Pending = { key, method, tool, at: now, bytes: 2 * (key.length + method.length + (tool?.length ?? 0)) + ENTRY_OVERHEAD_BYTES };
      this.#drop(key);
      while (this.#pending.size >= this.#bounds.maxPending || this.#pendingBytes + entry.bytes > this.#bounds.maxPendingBytes) {
        const oldest = this.#pending.values().next().value;
        if (!oldest) break;
        this.#settle(oldest.key, "abandoned", null);
      }
      this.#pending.set(key, entry);
      this.#pendingBytes += entry.bytes;
      started.push(entry);
    }
    return started;
  }

  /** Observes a message the SDK sends; logs it when it answers a pending request. */
  sent(message: JSONRPCMessage): void {
    const m = message as Message;
    if (m.id === undefined || (m.result === undefined && m.error === undefined)) return;
    const error = m.error ? `${String(m.error.code)} ${String(m.error.message ?? "")}`.slice(0, 500) : null;
    const kind = m.error ? kindOfRpcError(m.error.code, this.serverKind) : (m.result as { isError?: unknown } | undefined)?.isError === true ? "tool" : null;
    this.#settle(idKey(m.id), error ? "error" : "ok", error, kind);
  }

  /** Logs requests the SDK refused with an HTTP error before dispatching them, and forgets them. */
  rejected(started: Pending[], status: number, method: string): void {
    const kind = kindOfHttpStatus(status, this.serverKind);
    if (started.length === 0) {
      this.#insert(null, { key: "", method: cut(method), tool: null, at: Date.now(), bytes: 0 }, `http-${status}`, null, kind);
      return;
    }
    for (const entry of started) {
      if (this.#pending.get(entry.key) === entry) this.#drop(entry.key);
      this.#insert(entry.key, entry, `http-${status}`, null, kind);
    }
  }

  page(afterSeq: number, limit: number): RequestLogEntry[] {
    this.flush();
    return this.#sql
      .exec<{ seq: number; at: number; rpc_id: string | null; method: string; tool: string | null; status: string; duration_ms: number; error: string | null }>(
        "SELECT * FROM requests WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, rpcId: r.rpc_id, method: r.method, tool: r.tool, status: r.status, durationMs: r.duration_ms, error: r.error }));
  }

  /** Requests pending for longer than the TTL are abandoned: their client stopped waiting. */
  #expire(now: number): void {
    for (const entry of this.#pending.values()) {
      if (now - entry.at < this.#bounds.pendingTtlMs) break; // insertion order is age order
      this.#settle(entry.key, "abandoned", null);
    }
  }

  #settle(key: string, status: string, error: string | null, kind: ErrorKind | null = null): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#drop(key);
    this.#insert(key, pending, status, error, kind);
  }

  #drop(key: string): void {
    const entry = this.#pending.get(key);
    if (!entry) return;
    this.#pending.delete(key);
    this.#pendingBytes -= entry.bytes;
  }

  /** Writes the rows that wait, with the totals, in one step (a no-op when none wait). */
  flush(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#unwritten.length === 0 || this.#discarded) return;
    const rows = this.#unwritten;
    this.#unwritten = [];
    // One statement for the whole batch (one SQL text, so one prepared statement), in order.
    this.#sql.exec(INSERT_BATCH, JSON.stringify(rows));
    const seq = this.#sql.exec<{ seq: number }>("SELECT max(seq) AS seq FROM requests").one().seq;
    this.#kv.put(REQUEST_COUNTS_KEY, this.#counts);
    // Each time the log passes a hundred rows, the oldest beyond `MAX_ROWS` go.
    if (Math.floor(seq / 100) > Math.floor((seq - rows.length) / 100)) this.#sql.exec("DELETE FROM requests WHERE seq <= ?", seq - MAX_ROWS);
  }

  /** The session's storage is being deleted: what waits is dropped, and nothing is written from now on. */
  discard(): void {
    this.#discarded = true;
    this.#unwritten = [];
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  #flushLater(): void {
    this.#flushTimer = undefined;
    try {
      this.flush();
    } catch (err) {
      console.error("request-log: rows not written", String(err));
    }
  }

  #insert(rpcId: string | null, entry: Pending, status: string, error: string | null, kind: ErrorKind | null): void {
    this.#counts.requests++;
    // A cancelled or abandoned request is not the server's failure: it counts, but not as an error.
    if (status === "error" || status.startsWith("http-")) this.#counts.errors++;
    const now = Date.now();
    if (metricsEnabled()) record((this.#counts.metrics ??= { open: {}, sent: [] }).open, now, entry.method, entry.tool, kind, now - entry.at);
    this.#unwritten.push([entry.at, rpcId, entry.method, entry.tool, status, now - entry.at, error]);
    if (this.#unwritten.length >= MAX_UNWRITTEN) this.flush();
    else this.#flushTimer ??= setTimeout(() => this.#flushLater(), FLUSH_AFTER_MS);
    this.#onCounted();
  }
}
