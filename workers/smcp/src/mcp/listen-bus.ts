/**
 * The change-event bus of one tenant's server in one isolate: what its tools
 * publish (`ctx.notify`) and its `subscriptions/listen` streams subscribe to.
 *
 * Workers tie I/O objects, streams included, to the request that created them and
 * refuse their use from another request. The SDK's in-memory bus writes into each
 * listen stream from the request that published (the tool call): under the workerd
 * test runner that fails ("Cannot perform I/O on behalf of a different request")
 * and the listener gets nothing; `wrangler dev` happens to let it through. A
 * promise settled by the tool call runs its continuation in the tool call's request
 * too, so it cannot wake the listener either. Hence: `publish` only queues the
 * event, and each subscriber has a pump, started in its own request, that looks at
 * its queue on that request's timers: every 25 ms after an event, backing off to
 * once a second while idle. A subscriber's queue is bounded; events beyond it are
 * dropped (list-changed events carry no data, so a reader that far behind has lost
 * nothing one `tools/list` does not give back).
 */
import type { ServerEventBus } from "@modelcontextprotocol/server";

type ServerEvent = Parameters<ServerEventBus["publish"]>[0];
type Listener = (event: ServerEvent) => void;

/** Events queued per subscriber before new ones are dropped. */
const MAX_QUEUED = 64;
/** How often a pump looks at its queue: right after an event, and at most while idle. */
const POLL_MIN_MS = 25;
const POLL_MAX_MS = 1_000;

interface Subscriber {
  queue: ServerEvent[];
  closed: boolean;
}

export class RequestScopedEventBus implements ServerEventBus {
  readonly #subscribers = new Set<Subscriber>();
  readonly #onerror: (error: Error) => void;

  constructor(onerror: (error: Error) => void) {
    this.#onerror = onerror;
  }

  publish(event: ServerEvent): void {
    for (const sub of this.#subscribers) {
      if (sub.queue.length < MAX_QUEUED) sub.queue.push(event);
    }
  }

  subscribe(listener: Listener): () => void {
    const sub: Subscriber = { queue: [], closed: false };
    this.#subscribers.add(sub);
    void this.#pump(sub, listener);
    return () => {
      if (sub.closed) return;
      sub.closed = true;
      this.#subscribers.delete(sub);
    };
  }

  /** Runs in the subscribing request, on timers of that request, until unsubscribed. */
  async #pump(sub: Subscriber, listener: Listener): Promise<void> {
    let wait = POLL_MIN_MS;
    while (!sub.closed) {
      await new Promise<void>((resolve) => setTimeout(resolve, wait));
      if (sub.queue.length === 0) {
        wait = Math.min(wait * 2, POLL_MAX_MS);
        continue;
      }
      wait = POLL_MIN_MS;
      for (const event of sub.queue.splice(0)) {
        if (sub.closed) return;
        try {
          listener(event);
        } catch (err) {
          this.#onerror(err instanceof Error ? err : new Error(String(err)));
        }
      }
    }
  }
}
