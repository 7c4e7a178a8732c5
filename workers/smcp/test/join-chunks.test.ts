// joinQueuedChunks in the runtime that serves it: workerd settles a read of a queued chunk
// later than Node does, which a join that only waits a microtask missed (it joined nothing).
import { describe, expect, it } from "vitest";
import { joinQueuedChunks } from "../src/mcp/coalesce";

const encoder = new TextEncoder();

describe("joinQueuedChunks in workerd", () => {
  it("resume:replay — a replay's 100 queued events cross as one chunk, byte for byte, and a live event after it still arrives", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const events = Array.from({ length: 100 }, (_, i) => `event: message\nid: s_${i + 1}\ndata: {"n":${i}}\n\n`);
    for (const e of events) controller.enqueue(encoder.encode(e));
    const reader = joinQueuedChunks(new Response(body, { headers: { "content-type": "text/event-stream" } })).body!.getReader();

    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(events.join(""));
    const live = reader.read();
    controller.enqueue(encoder.encode("data: live\n\n"));
    expect(new TextDecoder().decode((await live).value)).toBe("data: live\n\n");
    controller.close();
    expect((await reader.read()).done).toBe(true);
  });
});
