// The one "stream is over" wrapper (packages/runtime/src/body-end.ts) behind the session's
// SSE stream count and the tenant's listen-stream slots.
import { describe, expect, it } from "vitest";
import { isEventStream, whenBodyEnds } from "../../packages/runtime/src/body-end";
import { SSE, liveStream } from "./support/live-stream";

describe("whenBodyEnds", () => {
  it("session:streams — passes every chunk through and calls ended once, when the body ends", async () => {
    const { response, controller } = liveStream();
    let ended = 0;
    const wrapped = whenBodyEnds(response, () => ended++);
    expect(wrapped.status).toBe(200);
    expect(wrapped.headers.get("content-type")).toBe("text/event-stream");
    const reader = wrapped.body!.getReader();
    controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 1\n\n");
    expect(ended).toBe(0);
    controller.close();
    expect((await reader.read()).done).toBe(true);
    expect(ended).toBe(1);
  });

  it("session:streams — a reader that cancels (the client went away) ends it once, and the source is cancelled", async () => {
    let cancelled: unknown = null;
    const source = new ReadableStream<Uint8Array>({ cancel: (reason) => void (cancelled = reason) });
    let ended = 0;
    const wrapped = whenBodyEnds(new Response(source, { headers: SSE }), () => ended++);
    await wrapped.body!.cancel("gone");
    await wrapped.body!.cancel("again").catch(() => {});
    expect(ended).toBe(1);
    expect(cancelled).toBe("gone");
  });

  it("session:streams — a body that fails ends it once and passes the error on", async () => {
    const { response, controller } = liveStream();
    let ended = 0;
    const reader = whenBodyEnds(response, () => ended++).body!.getReader();
    const boom = new Error("stream broke");
    controller.error(boom);
    await expect(reader.read()).rejects.toBe(boom);
    expect(ended).toBe(1);
  });

  it("session:streams — a response without a body has ended already; only SSE with a body is an event stream", () => {
    let ended = 0;
    const empty = new Response(null, { status: 429 });
    expect(whenBodyEnds(empty, () => ended++)).toBe(empty);
    expect(ended).toBe(1);
    expect(isEventStream(new Response("x", { headers: SSE }))).toBe(true);
    expect(isEventStream(new Response("x", { headers: { "content-type": "application/json" } }))).toBe(false);
    expect(isEventStream(new Response(null, { headers: SSE }))).toBe(false);
  });
});
