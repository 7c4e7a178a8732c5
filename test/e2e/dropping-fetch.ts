/**
 * A client fetch that drops the SSE answer of the first matching `tools/call` after
 * `keep` message events, as a network drop would (an error mid-stream, not a clean end),
 * then calls `onDrop`. It records the `Last-Event-ID` the client resumes with, so a test
 * sees that the SDK client's own resumption ran.
 */
import type { FetchLike } from "@modelcontextprotocol/client";

export interface DroppingFetch {
  fetch: FetchLike;
  dropped(): boolean;
  resumedWith(): string | null;
}

export function droppingFetch(options: { keep?: number; tool?: string; onDrop?: () => void } = {}): DroppingFetch {
  const keep = options.keep ?? 1;
  let dropped = false;
  let resumedWith: string | null = null;
  const fetchImpl: FetchLike = async (input, init) => {
    const lastEventId = new Headers(init?.headers).get("last-event-id");
    if (lastEventId) resumedWith = lastEventId;
    const response = await fetch(input, init);
    const body = typeof init?.body === "string" ? init.body : "";
    const isCall = body.includes('"tools/call"') && (options.tool === undefined || body.includes(`"${options.tool}"`));
    if (dropped || !isCall || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
    dropped = true;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    let buffered = "";
    const cut = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        buffered += decoder.decode(value, { stream: true });
        const frames = buffered.split("\n\n");
        buffered = frames.pop()!;
        for (const frame of frames) {
          controller.enqueue(new TextEncoder().encode(`${frame}\n\n`));
          if (frame.includes("event: message") && ++seen >= keep) {
            await reader.cancel();
            controller.error(new TypeError("network connection lost (simulated)"));
            options.onDrop?.();
            return;
          }
        }
      },
    });
    return new Response(cut, { status: response.status, headers: response.headers });
  };
  return { fetch: fetchImpl, dropped: () => dropped, resumedWith: () => resumedWith };
}
