/**
 * ListenBusDO: the change-event bus of one tenant's server (the stateless lane's
 * `subscriptions/listen`), shared by every isolate. Named by tenant incarnation and
 * server (`listenBusObjectName`), so a re-created tenant never meets the old one's events
 * and no name reaches another tenant's bus.
 *
 * Why a stream from the object and not polling: each listen stream of the Worker holds
 * one open RPC stream from this object for its whole life and is woken by the bytes it
 * reads, so an idle listener costs no request at all and an event reaches 100 listeners
 * with one publish. This works across requests because a Durable Object's requests
 * share one I/O context: the publish call writes into streams opened by other calls,
 * which a Worker refuses (mcp/listen-bus.ts). Polling would cost one object request per
 * listener per interval, forever, and add the interval to every delivery.
 *
 * Why events are also kept (at most MAX_EVENTS, in SQLite): a stream is cut when the
 * object restarts or moves; the subscriber reopens it with the last sequence number it
 * saw and gets what it missed, in order, then live events. A subscriber that has seen no
 * sequence number yet asks for events since it subscribed, so an event published while
 * its stream was still opening is not lost.
 *
 * What it must never do: write anything for a listen (a stream is memory only; storage
 * exists only after the first publish, which only an authenticated tool call or an admin
 * deploy makes), hold more than `cap` streams, or let one stalled reader grow its queue
 * without bound (such a stream is closed; its subscriber reopens with its cursor). An idle
 * bus deletes all its storage on an alarm RETENTION_MS after its last publish.
 */
import { DurableObject } from "cloudflare:workers";
import type { ServerEventBus } from "@modelcontextprotocol/server";
import type { Env } from "../env";
import { migrate, schemaVersion, type MigrationList } from "../storage/migrations";

/** A change event of the SDK's `subscriptions/listen` (list changes, resource updates). */
export type ChangeEvent = Parameters<ServerEventBus["publish"]>[0];

/**
 * A task of this server changed status (tasks/task-do.ts publishes it). It names the
 * task and nothing more: a listen stream that watches the task reads its state from the
 * TaskDO as its owner (tasks/task-listen.ts), so the bus never holds a result and no
 * stream learns anything of a task it could not `tasks/get`.
 */
export interface TaskStatusEvent {
  kind: "task_status";
  taskId: string;
}

export type BusEvent = ChangeEvent | TaskStatusEvent;

export const isTaskStatusEvent = (event: BusEvent): event is TaskStatusEvent => event.kind === "task_status";

/**
 * The object's schema (runner: storage/migrations.ts). HOW TO ADD A STEP: append one at
 * the end; never edit a shipped step. Applied by the first publish only.
 */
export const LISTEN_BUS_MIGRATIONS: MigrationList = {
  name: "ListenBusDO",
  steps: [
    // 1: the last events published on the bus, by sequence number.
    `
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL
);
`,
    // Append new steps here.
  ],
};

/** Events kept per bus for subscribers whose stream was cut. */
export const MAX_EVENTS = 100;
/** An idle bus deletes its storage this long after its last publish. */
export const RETENTION_MS = 60 * 60 * 1000;
/** Lines one stream may have queued unread before it is closed (a whole backlog fits). */
const MAX_UNREAD = 2 * MAX_EVENTS;
/** How long a probe of the open streams waits for their refusals. */
const PROBE_MS = 250;
/** The largest `params` of an event kept and forwarded (JSON text); larger ones are dropped. */
const MAX_PARAMS_CHARS = 4096;
const MAX_URI_CHARS = 2048;
const MAX_TASK_ID_CHARS = 256;

const KINDS = new Set(["tools_list_changed", "prompts_list_changed", "resources_list_changed", "resource_updated", "task_status"]);

/** One line of a listen stream: the head (`event` absent) or an event, each with its sequence number. */
export interface BusLine {
  seq: number;
  event?: BusEvent;
}

/** Where a stream starts: after a sequence number seen before, or at events published since a time. */
export interface ListenFrom {
  after?: number;
  since: number;
}

export type PublishOutcome = { ok: true; seq: number } | { ok: false; reason: "not-a-change-event" };

export type ListenOutcome = { ok: true; stream: ReadableStream<Uint8Array> } | { ok: false; reason: "too-many-streams" };

/** `event` reduced to what the bus carries, or null when it is no change event. */
export function busEvent(event: unknown): BusEvent | null {
  if (typeof event !== "object" || event === null) return null;
  const { kind, uri, params } = event as { kind?: unknown; uri?: unknown; params?: unknown };
  if (typeof kind !== "string" || !KINDS.has(kind)) return null;
  if (kind === "task_status") {
    const { taskId } = event as { taskId?: unknown };
    return typeof taskId === "string" && taskId.length > 0 && taskId.length <= MAX_TASK_ID_CHARS ? { kind, taskId } : null;
  }
  let kept: ChangeEvent["params"];
  if (typeof params === "object" && params !== null && !Array.isArray(params)) {
    const text = JSON.stringify(params);
    if (text.length <= MAX_PARAMS_CHARS) kept = JSON.parse(text);
  }
  if (kind === "resource_updated") {
    if (typeof uri !== "string" || uri.length > MAX_URI_CHARS) return null;
    return kept ? { kind, uri, params: kept } : { kind, uri };
  }
  const k = kind as Exclude<ChangeEvent["kind"], "resource_updated">;
  return kept ? { kind: k, params: kept } : { kind: k };
}

const encoder = new TextEncoder();
const lineOf = (line: BusLine) => encoder.encode(`${JSON.stringify(line)}\n`);

export class ListenBusDO extends DurableObject<Env> {
  readonly #streams = new Set<WritableStreamDefaultWriter<Uint8Array>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    if (schemaVersion(ctx.storage) > 0) migrate(ctx.storage, LISTEN_BUS_MIGRATIONS);
  }

  /** Keeps `event` (the last MAX_EVENTS are kept) and writes it to every open stream. Answers its sequence number. */
  async publish(event: BusEvent): Promise<PublishOutcome> {
    const kept = busEvent(event);
    if (!kept) return { ok: false, reason: "not-a-change-event" };
    const storage = this.ctx.storage;
    migrate(storage, LISTEN_BUS_MIGRATIONS);
    const at = Date.now();
    const seq = storage.sql.exec<{ seq: number }>("INSERT INTO events (at, event) VALUES (?, ?) RETURNING seq", at, JSON.stringify(kept)).one().seq;
    storage.sql.exec("DELETE FROM events WHERE seq <= ?", seq - MAX_EVENTS);
    await storage.setAlarm(at + RETENTION_MS);
    const bytes = lineOf({ seq, event: kept });
    for (const writer of this.#streams) this.#write(writer, bytes);
    return { ok: true, seq };
  }

  /**
   * A stream of lines (`BusLine`, one JSON text each): first the head (the last sequence
   * number), then the kept events `from` asks for, then live events until the reader
   * cancels. At most `cap` streams are open at once.
   */
  async listen(from: ListenFrom, cap: number): Promise<ListenOutcome> {
    if (this.#streams.size >= cap && (await this.#live()) >= cap) return { ok: false, reason: "too-many-streams" };
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const backlog = this.#backlog(from);
    this.#write(writer, lineOf({ seq: backlog.head }));
    for (const line of backlog.lines) this.#write(writer, lineOf(line));
    this.#streams.add(writer);
    writer.closed.then(
      () => this.#streams.delete(writer),
      () => this.#streams.delete(writer),
    );
    return { ok: true, stream: readable };
  }

  /** Streams open on this bus, from every isolate. */
  async openStreams(): Promise<number> {
    return this.#live();
  }

  /** Deletes the bus's storage once it has been idle for RETENTION_MS (kept while streams are open). */
  async alarm(): Promise<void> {
    if ((await this.#live()) > 0) {
      await this.ctx.storage.setAlarm(Date.now() + RETENTION_MS);
      return;
    }
    await this.ctx.storage.deleteAll();
  }

  /**
   * The streams still read, after dropping the ones whose reader went away. A cancel
   * reaches this side only when it next writes, so this writes the head line to each
   * (harmless to a reader: it only moves its cursor) and waits briefly for the refusals.
   */
  async #live(): Promise<number> {
    if (this.#streams.size === 0) return 0;
    const head = lineOf({ seq: this.#head() ?? 0 });
    const writes = [...this.#streams].map((writer) => writer.write(head).catch(() => this.#streams.delete(writer)));
    await Promise.race([Promise.allSettled(writes), new Promise((resolve) => setTimeout(resolve, PROBE_MS))]);
    return this.#streams.size;
  }

  /** The last sequence number kept; null when the bus has no storage. */
  #head(): number | null {
    if (schemaVersion(this.ctx.storage) === 0) return null;
    return this.ctx.storage.sql.exec<{ head: number | null }>("SELECT max(seq) AS head FROM events").one().head ?? 0;
  }

  #backlog(from: ListenFrom): { head: number; lines: BusLine[] } {
    const head = this.#head();
    if (head === null) return { head: from.after ?? 0, lines: [] };
    const sql = this.ctx.storage.sql;
    // A cursor beyond the head comes from before the storage was deleted: start from the time instead.
    const rows =
      from.after !== undefined && from.after <= head
        ? sql.exec<{ seq: number; event: string }>("SELECT seq, event FROM events WHERE seq > ? ORDER BY seq", from.after)
        : sql.exec<{ seq: number; event: string }>("SELECT seq, event FROM events WHERE at >= ? ORDER BY seq", from.since);
    return { head, lines: rows.toArray().map((r) => ({ seq: r.seq, event: JSON.parse(r.event) as BusEvent })) };
  }

  /** Writes without waiting for the reader; a stream whose reader fell MAX_UNREAD behind is closed. */
  #write(writer: WritableStreamDefaultWriter<Uint8Array>, bytes: Uint8Array): void {
    if ((writer.desiredSize ?? 0) < -MAX_UNREAD) {
      this.#streams.delete(writer);
      writer.abort(new Error("listen stream fell behind")).catch(() => {});
      return;
    }
    writer.write(bytes).catch(() => this.#streams.delete(writer));
  }
}
