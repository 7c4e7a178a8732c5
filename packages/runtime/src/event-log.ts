/**
 * The SSE event log of one session, in the session Durable Object's SQLite.
 *
 * It is the SDK transport's `EventStore`: every event is inserted before the transport
 * writes it to the wire, so a client that loses its stream can reconnect with
 * `Last-Event-ID` and get exactly what followed on that stream. An event id names its
 * stream (`<stream>.<seq>`); `seq` is one counter for the whole session, so "after" is
 * a single indexed range scan. The log is bounded by count and bytes; the oldest
 * events go first, and ids at or below `pruned_through` answer "pruned" (409) rather
 * than "unknown" (400).
 *
 * It deliberately does not implement `getStreamIdForEventId`: with it, the SDK answers
 * 409 when a client reconnects before the old stream's end was noticed. Without it,
 * the SDK replaces the old stream with the new one, which is what a client whose
 * connection just dropped needs. The host validates ids with `check()` first.
 */
import type { EventStore, JSONRPCMessage } from "@modelcontextprotocol/server";
import { utf8Length } from "./encoding";

/** What a client says of itself in `initialize`. */
export interface ClientInfo {
  name: string;
  version: string;
  title?: string;
}

/** The subset of Cloudflare's `SqlStorage` this module needs. */
export interface SqlLike {
  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlCursorLike<T>;
}
type SqlStorageValue = ArrayBuffer | string | number | null;
interface SqlCursorLike<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
}

export interface EventLogLimits {
  maxEvents: number;
  maxBytes: number;
}

export type ResumeCheck =
  | { ok: true; streamId: string }
  | { ok: false; reason: "malformed-event-id" | "unknown-event-id" | "pruned-event-id" };

export interface StoredEvent {
  id: string;
  streamId: string;
  seq: number;
  /** The JSON text of the message, as it went on the wire. */
  message: string;
  bytes: number;
  createdAt: number;
}

/**
 * The event log's first schema, with a stream index and a one-row state table. Kept
 * as it shipped because the session's first migration step is this text; the log now
 * needs only `EVENT_LOG_TABLE` and a `PrunedMark` (see SqliteEventLog).
 */
export const EVENT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  stream_id TEXT NOT NULL,
  message TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, seq);
CREATE TABLE IF NOT EXISTS event_log_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through INTEGER NOT NULL
);
INSERT OR IGNORE INTO event_log_state (id, pruned_through) VALUES (1, 0);
`;

/**
 * The log's one table. No index by stream: each read by stream is a range scan from a
 * seq (the events after `Last-Event-ID`) or a scan of the whole bounded log (a rebuild's
 * `unanswered()`), so an index would only cost a page per session and a write per event.
 */
export const EVENT_LOG_TABLE = `
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  stream_id TEXT NOT NULL,
  message TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
`;

/**
 * Where the log keeps the highest pruned seq (ids at or below it answer "pruned"):
 * written only when pruning. A session keeps it in its KV, not in a table of its own.
 */
export interface PrunedMark {
  get(): number;
  set(seq: number): void;
}

/**
 * A priming event (empty `data:`) is stored so its id can be resumed from, but is never
 * replayed. A request stream's priming event names the requests the stream answers
 * (`{"smcp:requests":[ids]}`), so that after a restart the session can tell which of
 * them never got an answer (`unanswered()`) without a write per request.
 */
const PRIMING = "{}";
const REQUESTS_KEY = "smcp:requests";
const PRIMING_WITH_REQUESTS = `{"${REQUESTS_KEY}":`;
/** The ids a priming event names, or null when the text is not one (a message that merely starts alike has other keys). */
function primedRequests(text: string): (string | number)[] | null {
  if (!text.startsWith(PRIMING_WITH_REQUESTS)) return null;
  const value = JSON.parse(text) as Record<string, unknown>;
  const ids = value[REQUESTS_KEY];
  return Object.keys(value).length === 1 && Array.isArray(ids) ? (ids as (string | number)[]) : null;
}
const isPriming = (text: string) => text === PRIMING || primedRequests(text) !== null;

/** A request of the client that a stream was opened for and that never got its answer. */
export interface UnansweredRequest {
  streamId: string;
  id: string | number;
}

export function formatEventId(streamId: string, seq: number): string {
  return `${streamId}.${seq}`;
}

export function parseEventId(id: string): { streamId: string; seq: number } | null {
  const dot = id.lastIndexOf(".");
  if (dot <= 0) return null;
  const seqText = id.slice(dot + 1);
  if (!/^[0-9]{1,15}$/.test(seqText)) return null;
  return { streamId: id.slice(0, dot), seq: Number(seqText) };
}

export class SqliteEventLog implements EventStore {
  #sql: SqlLike;
  #limits: EventLogLimits;
  #lastSeq: number;
  #prunedThrough: number;
  #count: number;
  #bytes: number;

  #pruned: PrunedMark;

  /**
   * Assumes the `events` table exists (`EVENT_LOG_TABLE`). `created`: the caller made the
   * table just now (a new session), so there is nothing to count and no pruned mark.
   */
  constructor(sql: SqlLike, limits: EventLogLimits, pruned: PrunedMark, created = false) {
    this.#sql = sql;
    this.#limits = limits;
    this.#pruned = pruned;
    const totals = created
      ? { n: 0, b: 0, max_seq: null }
      : sql.exec<{ n: number; b: number | null; max_seq: number | null }>("SELECT count(*) AS n, sum(bytes) AS b, max(seq) AS max_seq FROM events").one();
    this.#prunedThrough = created ? 0 : pruned.get();
    // Pruning keeps the newest event, so the counter is the newest seq (or the pruned mark).
    this.#lastSeq = Math.max(totals.max_seq ?? 0, this.#prunedThrough);
    this.#count = totals.n;
    this.#bytes = totals.b ?? 0;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.append(streamId, JSON.stringify(message));
  }

  /** The priming event of a stream, naming the client requests it answers (none for a standalone stream). */
  prime(streamId: string, requestIds: readonly (string | number)[]): string {
    return this.append(streamId, this.primingText(requestIds));
  }

  /**
   * Requests whose stream was primed but holds no answer for them: what was in flight
   * when the session's object stopped. Read at a rebuild only (bounded by the log).
   */
  unanswered(): UnansweredRequest[] {
    // One pass over the bounded log: the streams primed with requests, then what answered them.
    const primed = new Map<string, (string | number)[]>();
    const answered = new Map<string, Set<string>>();
    for (const { stream_id, message } of this.#sql.exec<{ stream_id: string; message: string }>("SELECT stream_id, message FROM events ORDER BY seq")) {
      const ids = primedRequests(message);
      if (ids) {
        primed.set(stream_id, [...(primed.get(stream_id) ?? []), ...ids]);
        continue;
      }
      if (!message.includes('"id"')) continue;
      const m = JSON.parse(message) as { id?: unknown; result?: unknown; error?: unknown };
      if (m.id === undefined || !("result" in m || "error" in m)) continue;
      const set = answered.get(stream_id) ?? new Set<string>();
      set.add(JSON.stringify(m.id));
      answered.set(stream_id, set);
    }
    const out: UnansweredRequest[] = [];
    for (const [streamId, ids] of primed) {
      for (const id of ids) if (!answered.get(streamId)?.has(JSON.stringify(id))) out.push({ streamId, id });
    }
    return out;
  }

  /**
   * A seq for an event that may never be stored: a held answer (mcp/held-answer.ts) names
   * its priming event before it knows whether it will stream. An unused seq is a gap, which
   * nothing reads; a client never saw it (the held bytes were not sent).
   */
  reserve(): number {
    return ++this.#lastSeq;
  }

  /** The priming text of a stream answering `requestIds` (what `prime` stores), for a held answer. */
  primingText(requestIds: readonly (string | number)[]): string {
    return requestIds.length ? JSON.stringify({ [REQUESTS_KEY]: requestIds }) : PRIMING;
  }

  /**
   * Stores an event at a seq `reserve()` gave, once its answer turned out to stream. A seq
   * pruned meanwhile is not stored: resuming from it answers "pruned", as for any old event.
   */
  appendReserved(seq: number, streamId: string, text: string): void {
    if (seq <= this.#prunedThrough) return;
    this.#insert(seq, streamId, text);
  }

  /** Appends one event and enforces the bounds; returns its id. */
  append(streamId: string, text: string): string {
    const seq = ++this.#lastSeq;
    this.#insert(seq, streamId, text);
    return formatEventId(streamId, seq);
  }

  #insert(seq: number, streamId: string, text: string): void {
    const bytes = utf8Length(text);
    this.#sql.exec(
      "INSERT INTO events (seq, stream_id, message, bytes, created_at) VALUES (?, ?, ?, ?, ?)",
      seq,
      streamId,
      text,
      bytes,
      Date.now(),
    );
    this.#count++;
    this.#bytes += bytes;
    if (this.#count > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes) this.#prune();
  }

  /** Whether a client may resume from `lastEventId`, and on which stream. */
  check(lastEventId: string): ResumeCheck {
    const parsed = parseEventId(lastEventId);
    if (!parsed) return { ok: false, reason: "malformed-event-id" };
    if (parsed.seq <= this.#prunedThrough) return { ok: false, reason: "pruned-event-id" };
    const row = this.#sql
      .exec<{ stream_id: string }>("SELECT stream_id FROM events WHERE seq = ?", parsed.seq)
      .toArray()[0];
    if (!row || row.stream_id !== parsed.streamId) return { ok: false, reason: "unknown-event-id" };
    return { ok: true, streamId: parsed.streamId };
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) throw new Error("replayEventsAfter called with an unchecked event id");
    // Events can be appended while earlier ones are being sent (the request may still
    // be running); read again until caught up so none falls between replay and live.
    let after = parsed.seq;
    for (;;) {
      const rows = this.#sql
        .exec<{ seq: number; message: string }>(
          "SELECT seq, message FROM events WHERE stream_id = ? AND seq > ? ORDER BY seq",
          parsed.streamId,
          after,
        )
        .toArray();
      if (rows.length === 0) return parsed.streamId;
      for (const row of rows) {
        after = row.seq;
        if (isPriming(row.message)) continue;
        await send(formatEventId(parsed.streamId, row.seq), JSON.parse(row.message) as JSONRPCMessage);
      }
    }
  }

  stats(): { events: number; bytes: number; lastSeq: number; prunedThrough: number } {
    return { events: this.#count, bytes: this.#bytes, lastSeq: this.#lastSeq, prunedThrough: this.#prunedThrough };
  }

  /** A page of the log for admins, oldest first. */
  page(afterSeq: number, limit: number): StoredEvent[] {
    return this.#sql
      .exec<{ seq: number; stream_id: string; message: string; bytes: number; created_at: number }>(
        "SELECT seq, stream_id, message, bytes, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map((r) => ({
        id: formatEventId(r.stream_id, r.seq),
        streamId: r.stream_id,
        seq: r.seq,
        message: r.message,
        bytes: r.bytes,
        createdAt: r.created_at,
      }));
  }

  /**
   * Drops events written before `cutoff` (ms since epoch), oldest first; run by the
   * session's alarm so a long-lived session does not keep stale history up to its
   * count and byte bounds. Returns how many went.
   */
  pruneBefore(cutoff: number): number {
    const gone = this.#sql
      .exec<{ n: number; last: number | null; b: number | null }>(
        "SELECT count(*) AS n, max(seq) AS last, sum(bytes) AS b FROM events WHERE created_at < ?",
        cutoff,
      )
      .one();
    if (gone.n === 0 || gone.last === null) return 0;
    this.#sql.exec("DELETE FROM events WHERE seq <= ?", gone.last);
    this.#pruned.set(gone.last);
    this.#prunedThrough = gone.last;
    const totals = this.#sql.exec<{ n: number; b: number | null }>("SELECT count(*) AS n, sum(bytes) AS b FROM events").one();
    this.#count = totals.n;
    this.#bytes = totals.b ?? 0;
    return gone.n;
  }

  #prune(): void {
    while (this.#count > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes) {
      const oldest = this.#sql
        .exec<{ seq: number; bytes: number }>("SELECT seq, bytes FROM events ORDER BY seq LIMIT 64")
        .toArray();
      if (oldest.length === 0) break;
      let cut = this.#prunedThrough;
      for (const row of oldest) {
        if (this.#count <= this.#limits.maxEvents && this.#bytes <= this.#limits.maxBytes) break;
        cut = row.seq;
        this.#count--;
        this.#bytes -= row.bytes;
      }
      this.#sql.exec("DELETE FROM events WHERE seq <= ?", cut);
      this.#pruned.set(cut);
      this.#prunedThrough = cut;
    }
  }
}
