/**
 * The `ServerEventBus` of one tenant's server on the stateless lane, backed by that
 * server's ListenBusDO (mcp/listen-bus-do.ts): what its tools publish (`ctx.notify`) and
 * what deploys publish goes to the object; every `subscriptions/listen` stream in every
 * isolate reads it from there.
 *
 * Workers tie I/O objects, streams included, to the request that created them and
 * refuse their use from another request: the SDK's in-memory bus writes into each listen
 * stream from the request that published (the tool call), which fails under workerd
 * ("Cannot perform I/O on behalf of a different request"). Here nothing crosses
 * requests in the Worker: `publish` is one RPC call from the publishing request (kept
 * alive by `waitUntil`, since `publish` returns nothing to wait on), and each subscriber
 * has a pump, started in its own listen request, that holds a stream from the object
 * and hands each event to the SDK's listener in that same request.
 *
 * The pump reopens a stream that ended (the object restarted or closed a stream that
 * fell behind) after a short backoff, from the last sequence number it saw, so it loses
 * nothing the object kept; until it has seen one, from the time it subscribed.
 */
import { waitUntil } from "cloudflare:workers";
import type { ServerEventBus } from "@modelcontextprotocol/server";
import { isTaskStatusEvent, type BusEvent, type BusLine, type ChangeEvent, type ListenBusDO, type ListenFrom } from "./listen-bus-do";

type Listener = (event: BusEvent) => void;

/** Reopening a stream that ended: first after this long, doubling up to the most. */
const REOPEN_MIN_MS = 100;
const REOPEN_MAX_MS = 5_000;

interface Subscriber {
  closed: boolean;
  reader?: ReadableStreamDefaultReader<string>;
}

export class DurableListenBus implements ServerEventBus {
  readonly #object: () => DurableObjectStub<ListenBusDO>;
  readonly #cap: number;
  readonly #onerror: (error: Error) => void;

  /**
   * @param object - the bus object's stub, made anew for each call (a stub is an I/O object of the request that made it)
   * @param cap - streams the object holds at most (SMCP_MAX_LISTEN_STREAMS_PER_TENANT)
   */
  constructor(object: () => DurableObjectStub<ListenBusDO>, cap: number, onerror: (error: Error) => void) {
    this.#object = object;
    this.#cap = cap;
    this.#onerror = onerror;
  }

  publish(event: ChangeEvent): void {
    const published = this.#object()
      .publish(event)
      .then((outcome) => {
        if (!outcome.ok) this.#onerror(new Error(`list change not published: ${outcome.reason}`));
      })
      .catch((err) => this.#onerror(asError(err)));
    waitUntil(published);
  }

  /** The SDK's listen router: change events only (task events are SMCP's, tasks/task-listen.ts). */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.subscribeAll((event) => {
      if (!isTaskStatusEvent(event)) listener(event);
    });
  }

  /** Every event of the bus, task status events included; must be called in the request that reads them. */
  subscribeAll(listener: Listener): () => void {
    const sub: Subscriber = { closed: false };
    void this.#pump(sub, listener);
    return () => {
      if (sub.closed) return;
      sub.closed = true;
      // Cancelling reaches the object at its next write, which then drops the stream.
      try {
        sub.reader?.cancel().catch(() => {});
      } catch {
        // Called outside the listen request (its I/O is gone): the pump sees `closed` at its next line.
      }
    };
  }

  /** Runs in the subscribing request until unsubscribed: holds a stream from the object, reopened when it ends. */
  async #pump(sub: Subscriber, listener: Listener): Promise<void> {
    const from: ListenFrom = { since: Date.now() };
    let wait = REOPEN_MIN_MS;
    while (!sub.closed) {
      try {
        const opened = await this.#object().listen(from, this.#cap);
        if (opened.ok) {
          if (sub.closed) {
            await opened.stream.cancel();
            return;
          }
          sub.reader = opened.stream.pipeThrough(new TextDecoderStream()).getReader();
          if (await this.#read(sub, sub.reader, from, listener)) wait = REOPEN_MIN_MS;
        }
      } catch (err) {
        if (!sub.closed) this.#onerror(asError(err));
      }
      if (sub.closed) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, REOPEN_MAX_MS);
    }
  }

  /** Delivers the stream's events until it ends; moves `from` past each line. True when it read any. */
  async #read(sub: Subscriber, reader: ReadableStreamDefaultReader<string>, from: ListenFrom, listener: Listener): Promise<boolean> {
    let buffered = "";
    let any = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (sub.closed) {
        // Unsubscribed outside this request: the object counts this stream as read until it is cancelled.
        await reader.cancel().catch(() => {});
        return any;
      }
      if (done) return any;
      buffered += value;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as BusLine;
        buffered = buffered.slice(newline + 1);
        any = true;
        from.after = Math.max(from.after ?? 0, line.seq);
        if (!line.event || sub.closed) continue;
        try {
          listener(line.event);
        } catch (err) {
          this.#onerror(asError(err));
        }
      }
    }
  }
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** What a change of the server itself publishes: every list may have changed. */
const ALL_LISTS_CHANGED: readonly ChangeEvent[] = [{ kind: "tools_list_changed" }, { kind: "resources_list_changed" }, { kind: "prompts_list_changed" }];

/**
 * Tells the server's listeners, in every isolate, that all its lists may have changed:
 * for changes of the server itself, not of its tools' doing (a deploy or an activation
 * made another version the active one; a change of the server's policy should call it
 * too). The change is stored already, so a bus that cannot be reached is logged and
 * does not fail the caller.
 */
export async function publishListsChanged(bus: DurableObjectStub<ListenBusDO>, onerror: (error: Error) => void): Promise<void> {
  try {
    for (const event of ALL_LISTS_CHANGED) {
      const outcome = await bus.publish(event);
      if (!outcome.ok) throw new Error(`list change not published: ${outcome.reason}`);
    }
  } catch (err) {
    onerror(asError(err));
  }
}
