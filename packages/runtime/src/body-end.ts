/**
 * Knowing when a streamed response is over: the one wrapper behind every count of
 * open streams (a session's SSE streams, a tenant's `subscriptions/listen` streams).
 *
 * A stream is over when its body ends, fails, or its reader cancels it (the client
 * went away); the wrapper passes every chunk through unchanged and calls `ended`
 * exactly once, on whichever comes first, so a slot taken for the stream is given
 * back once and never leaks.
 */

/** Whether `response` is a server-sent event stream with a body: a response that holds its connection open. */
export function isEventStream(response: Response): boolean {
  return response.body !== null && (response.headers.get("content-type")?.startsWith("text/event-stream") ?? false);
}

/**
 * `response` with the same status, headers and bytes, calling `ended` once when its
 * body ends, fails or is cancelled. A response without a body has ended already.
 * `interject`, if given, receives a function that puts a chunk of the caller's
 * between the body's chunks (an SSE comment that finds out whether the client is
 * still there: the runtime notices a gone client only when it writes).
 */
export function whenBodyEnds(response: Response, ended: () => void, interject?: (write: (chunk: Uint8Array) => void) => void): Response {
  let called = false;
  const end = () => {
    if (called) return;
    called = true;
    ended();
  };
  if (!response.body) {
    end();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      interject?.((chunk) => {
        if (called) return;
        try {
          controller.enqueue(chunk);
        } catch {
          // Closed or errored meanwhile: nothing to find out.
        }
      });
    },
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          end();
          controller.close();
        } else {
          controller.enqueue(next.value);
        }
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason).catch(() => {});
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
