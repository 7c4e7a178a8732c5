/**
 * The keepalive comment of every `subscriptions/listen` stream (a deployed or built-in
 * server's, a task listen's, an upstream's, a passed-through one's): a stream that never
 * writes never learns that its client left, since the runtime notices a gone client only
 * at a write (under `wrangler dev` neither the SDK client's `close()` nor a subscription's
 * `close()` reaches the Worker otherwise). Without it, a quiet stream would hold its
 * tenant's listen slot in the isolate (listen-streams.ts), its place in the server's
 * ListenBusDO count, and for an upstream server the upstream's standalone stream, forever.
 */
import { isEventStream } from "@smcp/runtime";

const KEEPALIVE = new TextEncoder().encode(": keepalive\n\n");

/** How often a listen stream carries the comment: a client that left is noticed, and its slot released, within about this long. */
export const LISTEN_KEEPALIVE_MS = 2_000;

/**
 * `response` with an SSE comment written every `everyMs` while its body is open. When a
 * write fails (the client went away), the inner stream is cancelled, which ends its bus
 * subscription. A response that is no event stream (a refusal) is left as it is.
 */
export function withSseKeepalive(response: Response, everyMs = LISTEN_KEEPALIVE_MS): Response {
  if (!response.body || !isEventStream(response)) return response;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const gone = new AbortController();
  const stop = () => {
    clearInterval(timer);
    gone.abort();
  };
  const timer = setInterval(() => void writer.write(KEEPALIVE).catch(stop), everyMs);
  void response.body
    .pipeTo(
      new WritableStream<Uint8Array>({
        write: (chunk) => writer.write(chunk),
        close: () => (clearInterval(timer), writer.close()),
        abort: (reason) => (clearInterval(timer), writer.abort(reason)),
      }),
      { signal: gone.signal },
    )
    .catch(stop);
  return new Response(readable, { status: response.status, headers: response.headers });
}
