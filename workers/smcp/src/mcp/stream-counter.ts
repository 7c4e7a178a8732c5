/**
 * Counts the SSE streams a session has open, so a client cannot pile up streams
 * (each holds memory in the session's Durable Object). A stream counts from the
 * response until its body ends, errors, or the client goes away (`whenBodyEnds`).
 */
import { isEventStream, whenBodyEnds } from "@smcp/runtime";

export class StreamCounter {
  open = 0;
  readonly #closedAll: () => void;

  /** `closedAll` runs when the last open stream ends (the session may then go idle). */
  constructor(closedAll: () => void = () => {}) {
    this.#closedAll = closedAll;
  }

  /** Wraps an SSE response so its end is counted; other responses pass through. */
  track(response: Response): Response {
    if (!isEventStream(response)) return response;
    this.open++;
    return whenBodyEnds(response, () => {
      if (--this.open === 0) this.#closedAll();
    });
  }
}
