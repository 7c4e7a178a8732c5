// The one bounded stream reader (packages/runtime/src/bounded-stream.ts) behind request
// bodies and sandbox answers.
import { describe, expect, it } from "vitest";
import { readBoundedBytes } from "../../packages/runtime/src/bounded-stream";

/** A stream of the given chunks, then `end` ("close" or an error); records what was pulled and whether it was cancelled. */
function source(chunks: Uint8Array[], end: "close" | Error = "close") {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled < chunks.length) controller.enqueue(chunks[pulled++]!);
      else if (end === "close") controller.close();
      else controller.error(end);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

const chunk = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("readBoundedBytes", () => {
  it("input:body-size untrusted:messages — joins the chunks in order up to the limit exactly", async () => {
    const s = source([chunk(3, 1), chunk(4, 2), chunk(3, 3)]);
    expect([...(await readBoundedBytes(s.stream, 10))!]).toEqual([1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
    expect(s.cancelled()).toBe(false);
  });

  it("input:body-size untrusted:messages — one byte past the limit is null, and the stream is cancelled at that chunk", async () => {
    const s = source(Array.from({ length: 50 }, (_, i) => chunk(4, i)));
    expect(await readBoundedBytes(s.stream, 9)).toBeNull();
    expect(s.pulled()).toBe(3);
    expect(s.cancelled()).toBe(true);
  });

  it("untrusted:messages — a null stream is empty; a failing stream rejects with its own error", async () => {
    expect(await readBoundedBytes(null, 0)).toEqual(new Uint8Array(0));
    const boom = new Error("the isolate went away");
    await expect(readBoundedBytes(source([chunk(2, 0)], boom).stream, 100)).rejects.toBe(boom);
  });

  it("untrusted:messages — reads a Response's body as the sandbox client does", async () => {
    const response = new Response("x".repeat(64));
    expect(await readBoundedBytes(response.body, 63)).toBeNull();
    expect(new TextDecoder().decode((await readBoundedBytes(new Response("héllo").body, 6))!)).toBe("héllo");
  });
});
