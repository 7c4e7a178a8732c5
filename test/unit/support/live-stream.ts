// A streamed response for unit tests of stream wrappers.

export const SSE = { "content-type": "text/event-stream" };

/** An SSE response whose body the test drives: push chunks, then close or fail it. */
export function liveStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { response: new Response(body, { status: 200, headers: SSE }), controller };
}
