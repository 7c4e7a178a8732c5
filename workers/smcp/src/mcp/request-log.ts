/**
 * The request log of one session: method, tool, outcome and duration of every
 * JSON-RPC request, in the session's SQLite, for admins asking "what did it do and
 * why did it fail". Outcomes are taken from the responses the SDK sends (so an SSE
 * answer is logged when it is complete) and from HTTP rejections the SDK answers
 * before any handler runs. Bounded: the newest `MAX_ROWS` rows are kept.
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";

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

const MAX_ROWS = 1000;

export interface RequestLogEntry {
  seq: number;
  at: number;
  rpcId: string | null;
  method: string;
  tool: string | null;
  /** `ok`, `error` (a JSON-RPC error response) or `http-<status>` (rejected before dispatch). */
  status: string;
  durationMs: number;
  error: string | null;
}

interface Pending {
  method: string;
  tool: string | null;
  at: number;
}

type Message = { id?: unknown; method?: unknown; params?: { name?: unknown }; error?: { code?: unknown; message?: unknown }; result?: unknown };

export class RequestLog {
  readonly #sql: SqlStorage;
  readonly #pending = new Map<string, Pending>();
  requests = 0;
  errors = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Notes the requests of a POST body; returns them so an HTTP rejection can be logged. */
  received(body: unknown): Pending[] {
    const messages = (Array.isArray(body) ? body : [body]) as Message[];
    const started: Pending[] = [];
    for (const m of messages) {
      if (typeof m?.method !== "string" || m.id === undefined) continue;
      const entry = { method: m.method, tool: m.method === "tools/call" && typeof m.params?.name === "string" ? m.params.name : null, at: Date.now() };
      this.#pending.set(JSON.stringify(m.id), entry);
      started.push(entry);
    }
    return started;
  }

  /** Observes a message the SDK sends; logs it when it answers a pending request. */
  sent(message: JSONRPCMessage): void {
    const m = message as Message;
    if (m.id === undefined || (m.result === undefined && m.error === undefined)) return;
    const key = JSON.stringify(m.id);
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#pending.delete(key);
    const error = m.error ? `${String(m.error.code)} ${String(m.error.message ?? "")}`.slice(0, 500) : null;
    this.#insert(key, pending, error ? "error" : "ok", error);
  }

  /** Logs requests the SDK refused with an HTTP error before dispatching them. */
  rejected(started: Pending[], status: number, method: string): void {
    const entries = started.length ? started : [{ method, tool: null, at: Date.now() }];
    for (const entry of entries) this.#insert(null, entry, `http-${status}`, null);
  }

  page(afterSeq: number, limit: number): RequestLogEntry[] {
    return this.#sql
      .exec<{ seq: number; at: number; rpc_id: string | null; method: string; tool: string | null; status: string; duration_ms: number; error: string | null }>(
        "SELECT * FROM requests WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, rpcId: r.rpc_id, method: r.method, tool: r.tool, status: r.status, durationMs: r.duration_ms, error: r.error }));
  }

  #insert(rpcId: string | null, entry: Pending, status: string, error: string | null): void {
    this.requests++;
    if (status !== "ok") this.errors++;
    const seq = this.#sql
      .exec<{ seq: number }>(
        "INSERT INTO requests (at, rpc_id, method, tool, status, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        entry.at,
        rpcId,
        entry.method,
        entry.tool,
        status,
        Date.now() - entry.at,
        error,
      )
      .one().seq;
    if (seq % 100 === 0) this.#sql.exec("DELETE FROM requests WHERE seq <= ?", seq - MAX_ROWS);
  }
}
