/**
 * Counts the SSE streams a session has open, so a client cannot pile up streams
 * (each holds memory in the session's Durable Object). A stream counts from the
 * response until its body ends, errors, or the client goes away.
 */
export class StreamCounter {
  open = 0;

  /** Wraps an SSE response so its end is counted; other responses pass through. */
  track(response: Response): Response {
    if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
    this.open++;
    let counted = true;
    const release = () => {
      if (counted) this.open--;
      counted = false;
    };
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          release();
          controller.error(err);
        }
      },
      async cancel(reason) {
        release();
        await reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  }
}
