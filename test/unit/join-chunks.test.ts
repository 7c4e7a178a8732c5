// A resumed stream's replay crosses to the client in few chunks (workers/smcp/src/mcp/coalesce.ts).
import { describe, expect, it } from "vitest";
import { joinQueuedChunks } from "../../workers/smcp/src/mcp/coalesce";
import { liveStream } from "./support/live-stream";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("joinQueuedChunks", () => {
  it("resume:replay — chunks already queued arrive as one, in order, then a live chunk arrives when written", async () => {
    const { response, controller } = liveStream();
    const events = Array.from({ length: 100 }, (_, i) => `id: s_${i + 1}\ndata: {"n":${i}}\n\n`);
    for (const e of events) controller.enqueue(encoder.encode(e));
    const joined = joinQueuedChunks(response);
    expect(joined.status).toBe(200);
    expect(joined.headers.get("content-type")).toBe("text/event-stream");
    const reader = joined.body!.getReader();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe(events.join(""));
    const later = reader.read();
    controller.enqueue(encoder.encode("data: live\n\n"));
    expect(decoder.decode((await later).value)).toBe("data: live\n\n");
    controller.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("resume:replay — a joined chunk stops at the byte bound; nothing is lost past it", async () => {
    const { response, controller } = liveStream();
    for (let i = 0; i < 10; i++) controller.enqueue(encoder.encode(`${i}`.repeat(10)));
    controller.close();
    const reader = joinQueuedChunks(response, 25).body!.getReader();
    const chunks: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(decoder.decode(r.value));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.length <= 30)).toBe(true);
    expect(chunks.join("")).toBe(Array.from({ length: 10 }, (_, i) => `${i}`.repeat(10)).join(""));
  });

  it("resume:replay — a body that fails fails the joined stream with its error", async () => {
    const { response, controller } = liveStream();
    controller.enqueue(encoder.encode("a"));
    controller.enqueue(encoder.encode("b"));
    controller.error(new Error("gone"));
    const reader = joinQueuedChunks(response).body!.getReader();
    await expect(reader.read()).rejects.toThrow("gone");
  });
});
