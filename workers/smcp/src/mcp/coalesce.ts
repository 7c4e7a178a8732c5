/**
 * A resumed SSE stream's replay in few chunks. The SDK writes each replayed event as a
 * chunk of its own, all of them before it returns the response; each chunk would then
 * cross every hop to the client on its own (object → Worker → client: a read, a write
 * and a wake-up per hop and per event), which is most of what a resume of many events
 * costs. This joins the chunks already queued into one, up to `maxBytes`: whatever can be
 * read before the next macrotask (a timer of 0 ms; workerd settles a read of a queued chunk
 * a few microtasks late, so a microtask marker would join nothing). A chunk not yet written
 * is not waited for beyond that, so a live event after the replay goes out when written.
 * Bytes and their order are unchanged: only where one chunk ends and the next begins.
 */
import { joinBytes } from "@smcp/runtime";

/** Most bytes joined into one chunk: a bound on what is copied and held at once. */
export const MAX_JOINED_BYTES = 64 * 1024;

const NOT_QUEUED = Symbol("not queued");
type Read = ReadableStreamReadResult<Uint8Array>;

export function joinQueuedChunks(response: Response, maxBytes = MAX_JOINED_BYTES): Response {
  if (!response.body) return response;
  const reader = response.body.getReader();
  // A read that found nothing queued: the next pull waits on it (a read cannot be taken back).
  let waiting: Promise<Read> | undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const first = await (waiting ?? reader.read());
      waiting = undefined;
      if (first.done) return controller.close();
      const parts = [first.value];
      let size = first.value.byteLength;
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const turnOver = new Promise<typeof NOT_QUEUED>((resolve) => (timer = setTimeout(() => resolve(NOT_QUEUED), 0)));
      try {
        while (size < maxBytes) {
          const next = reader.read();
          // A read of a queued chunk settles within microtasks, so it wins the race against the timer.
          const read = await Promise.race([next, turnOver]);
          if (read === NOT_QUEUED) {
            waiting = next;
            break;
          }
          if (read.done) {
            done = true;
            break;
          }
          parts.push(read.value);
          size += read.value.byteLength;
        }
      } catch (err) {
        controller.enqueue(joinBytes(parts, size));
        return controller.error(err);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      controller.enqueue(joinBytes(parts, size));
      if (done) controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
