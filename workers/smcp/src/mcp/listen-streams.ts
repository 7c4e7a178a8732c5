/**
 * How many `subscriptions/listen` streams each tenant holds open in this isolate.
 *
 * A listen stream is a long-lived response the Worker keeps alive (keepalives, a
 * bus subscription), so a tenant's clients could otherwise pin an isolate's memory
 * with as many as they like. The count is per isolate, like the streams themselves
 * (the bus object of each server caps its streams across isolates too); one over `SMCP_MAX_LISTEN_STREAMS_PER_TENANT`
 * gets 429. A slot is held until the stream's body ends or its reader cancels it
 * (the client went away), and is given back exactly once. A tenant's entry exists
 * only while it holds a slot, so the map is bounded by open connections.
 */
import { isEventStream, whenBodyEnds, wire } from "@smcp/runtime";

const open = new Map<string, number>();

/** Open listen streams of `tenant` in this isolate. */
export const openListenStreams = (tenant: string): number => open.get(tenant) ?? 0;

/**
 * Takes a slot for one more listen stream of `tenant`, or throws 429 when it holds
 * `max` already. Returns the function that gives the slot back (idempotent).
 */
export function takeListenSlot(tenant: string, max: number): () => void {
  const held = openListenStreams(tenant);
  if (held >= max) throw listenStreamsExceeded(max);
  open.set(tenant, held + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = openListenStreams(tenant) - 1;
    if (left > 0) open.set(tenant, left);
    else open.delete(tenant);
  };
}

/** The 429 of one listen stream too many. */
export const listenStreamsExceeded = (max: number) =>
  wire.tooManyRequests("listen_streams_exceeded", `Too many open subscriptions/listen streams for this tenant (at most ${max} at once); close one first`);

/**
 * `response` with a body that calls `release` when it ends, fails or is cancelled.
 * A response without a stream body (a refusal) releases at once.
 */
export function releaseWhenClosed(response: Response, release: () => void): Response {
  if (!isEventStream(response)) {
    release();
    return response;
  }
  return whenBodyEnds(response, release);
}
