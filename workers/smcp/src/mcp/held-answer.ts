/**
 * The session lane's JSON fast path: a POST carrying one request is answered with one
 * JSON body when its answer is ready within a short budget and nothing else was sent for
 * it; otherwise with the SSE stream the SDK built (priming event, resumable, in the event
 * log), exactly as before.
 *
 * Which of the two must be decided before the first byte goes out, so the session holds
 * the SDK's SSE response and keeps the request's events out of the event log while it
 * waits. The transport calls the event store before it writes each event, which is where
 * a hold learns what happens:
 * - the priming event: kept in memory under a reserved seq (its id is already in the held
 *   bytes, so the stream can still become resumable);
 * - the request's answer, while still held: the answer goes out as JSON and nothing of the
 *   call reaches the event log;
 * - anything else for the request (progress, logging, a server-to-client request), the
 *   budget running out, or the handler closing its stream for polling: the priming event
 *   is stored at its reserved seq and the SSE response goes out with everything so far.
 *
 * What a JSON answer gives up: it is not in the event log, so a client whose connection
 * drops before it arrives cannot resume it with `Last-Event-ID` (README, "JSON answers").
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { formatEventId, type SqliteEventLog } from "@smcp/runtime";
import { inlineableResponse } from "./session-answer";

export type HeldOutcome = { json: JSONRPCMessage } | { sse: true };

interface Hold {
  id: string | number;
  streamId?: string;
  /** The priming event, once the transport wrote it: reserved seq and stored text. */
  priming?: { seq: number; text: string };
  settle: (outcome: HeldOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

const keyOf = (id: string | number) => (typeof id === "number" ? `n${id}` : `s${id}`);
const isAnswer = (m: JSONRPCMessage) => "id" in m && ("result" in m || "error" in m);

export class HeldAnswers {
  #byRequest = new Map<string, Hold>();
  #byStream = new Map<string, Hold>();
  #log: () => SqliteEventLog;
  #budgetMs: number;

  constructor(log: () => SqliteEventLog, budgetMs: number) {
    this.#log = log;
    this.#budgetMs = budgetMs;
  }

  /**
   * Holds the answer to request `id`; the promise says how it goes out. Null when the id is
   * already held (a client reusing an id in flight): that request streams as before.
   */
  hold(id: string | number): Promise<HeldOutcome> | null {
    const key = keyOf(id);
    if (this.#byRequest.has(key)) return null;
    return new Promise((resolve) => {
      const hold: Hold = {
        id,
        settle: resolve,
        timer: setTimeout(() => this.#toSse(hold), this.#budgetMs),
      };
      this.#byRequest.set(key, hold);
    });
  }

  /**
   * The event store's first look at an event of `streamId` (`{}`: the priming event). A
   * string is the id to give the transport, the event being held or answered as JSON;
   * undefined means "store it as usual" (no hold, or the hold has just turned into SSE).
   */
  store(streamId: string, message: JSONRPCMessage, requestsOnStream: () => (string | number)[]): string | undefined {
    if (this.#byRequest.size === 0) return undefined;
    const hold = this.#holdOf(streamId, requestsOnStream);
    if (!hold) return undefined;
    if (Object.keys(message).length === 0 && !hold.priming) {
      const seq = this.#log().reserve();
      hold.priming = { seq, text: this.#log().primingText([hold.id]) };
      return formatEventId(streamId, seq);
    }
    if (isAnswer(message) && (message as { id: unknown }).id === hold.id) {
      this.#release(hold);
      hold.settle({ json: message });
      // The SSE bytes this id lands in are dropped unsent; nothing is stored under it.
      return formatEventId(streamId, 0);
    }
    this.#toSse(hold);
    return undefined;
  }

  /** The handler closes the request's stream (polling): it must be a resumable SSE stream first. */
  closing(id: string | number): void {
    const hold = this.#byRequest.get(keyOf(id));
    if (hold) this.#toSse(hold);
  }

  /** The SDK answered without a stream (an HTTP error, say): nothing is held for `id`. */
  drop(id: string | number): void {
    const hold = this.#byRequest.get(keyOf(id));
    if (hold) this.#release(hold);
  }

  #holdOf(streamId: string, requestsOnStream: () => (string | number)[]): Hold | undefined {
    const known = this.#byStream.get(streamId);
    if (known) return known;
    const ids = requestsOnStream();
    if (ids.length !== 1) return undefined;
    const hold = this.#byRequest.get(keyOf(ids[0]!));
    if (!hold || hold.streamId !== undefined) return undefined;
    hold.streamId = streamId;
    this.#byStream.set(streamId, hold);
    return hold;
  }

  /** From here on the request streams: its priming event goes into the log at the seq its id names. */
  #toSse(hold: Hold): void {
    if (!this.#release(hold)) return;
    if (hold.priming && hold.streamId !== undefined) this.#log().appendReserved(hold.priming.seq, hold.streamId, hold.priming.text);
    hold.settle({ sse: true });
  }

  /** False when the hold was already released (decided once). */
  #release(hold: Hold): boolean {
    const key = keyOf(hold.id);
    if (this.#byRequest.get(key) !== hold) return false;
    clearTimeout(hold.timer);
    this.#byRequest.delete(key);
    if (hold.streamId !== undefined) this.#byStream.delete(hold.streamId);
    return true;
  }
}

/** The one request of a POST body that may be answered as JSON: a single message with a method and an id. */
export function soleRequestId(body: unknown): string | number | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { id, method } = body as { id?: unknown; method?: unknown };
  return typeof method === "string" && (typeof id === "string" || typeof id === "number") ? id : undefined;
}

/** The held SSE response turned into the JSON answer: its body is dropped unsent, the session header kept. */
export async function jsonAnswer(held: Response, message: JSONRPCMessage): Promise<Response> {
  await held.body?.cancel().catch(() => {});
  const headers: Record<string, string> = { "content-type": "application/json" };
  const session = held.headers.get("mcp-session-id");
  if (session !== null) headers["mcp-session-id"] = session;
  return inlineableResponse(JSON.stringify(message), { status: 200, headers });
}
