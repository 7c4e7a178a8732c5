/**
 * Counts the SSE streams a session has open, so a client cannot pile up streams
 * (each holds memory in the session's Durable Object). A stream counts from the
 * response until its body ends, errors, or the client goes away (`whenBodyEnds`).
 *
 * The runtime notices a client that went away only when something is written to its
 * stream, so a quiet stream (the standalone GET stream) would count as open forever.
 * `probe()` writes one SSE comment to every stream tracked with `trackQuiet`: those
 * whose client left end. A request's stream needs none: its answer is such a write.
 */
import { isEventStream, whenBodyEnds } from "@smcp/runtime";

const PROBE = new TextEncoder().encode(": \n\n");

export class StreamCounter {
  open = 0;
  readonly #closedAll: () => void;
  readonly #probes = new Set<() => void>();

  /** `closedAll` runs when the last open stream ends (the session may then go idle). */
  constructor(closedAll: () => void = () => {}) {
    this.#closedAll = closedAll;
  }

  /** Wraps an SSE response so its end is counted; other responses pass through. */
  track(response: Response): Response {
    if (!isEventStream(response)) return response;
    this.open++;
    return whenBodyEnds(response, () => this.#ended());
  }

  /** As `track`, for a stream that may stay quiet (the standalone GET stream): `probe()` reaches it. */
  trackQuiet(response: Response): Response {
    if (!isEventStream(response)) return response;
    this.open++;
    let probe = () => {};
    const tracked = whenBodyEnds(
      response,
      () => {
        this.#probes.delete(probe);
        this.#ended();
      },
      // The SDK writes each SSE event as one chunk, so a comment between chunks never splits one.
      (write) => (probe = () => write(PROBE)),
    );
    this.#probes.add(probe);
    return tracked;
  }

  #ended(): void {
    if (--this.open === 0) this.#closedAll();
  }

  /** One SSE comment on every open stream: a stream whose client went away then ends (and is no longer counted). */
  probe(): void {
    for (const probe of this.#probes) probe();
  }
}
