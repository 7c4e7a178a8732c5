// Streams that drop and a platform that restarts: the session lane must lose nothing.
import type { FetchLike } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Platform, textOf } from "./platform";

const platform = new Platform();
let acme: { tenant: string; key: string };

beforeAll(async () => {
  await platform.start();
  acme = await platform.tenant("acme");
});
afterAll(() => platform.dispose());

/**
 * A fetch that cuts the SSE response of the first `tools/call` after `keep` events,
 * as a network drop would: the client sees an error mid-stream, not a clean end.
 */
function droppingFetch(keep: number): { fetch: FetchLike; dropped: () => boolean; resumedWith: () => string | null } {
  let dropped = false;
  let resumedWith: string | null = null;
  const fetchImpl: FetchLike = async (input, init) => {
    const lastEventId = new Headers(init?.headers).get("last-event-id");
    if (lastEventId) resumedWith = lastEventId;
    const response = await fetch(input, init);
    const isToolCall = typeof init?.body === "string" && init.body.includes('"tools/call"');
    if (dropped || !isToolCall || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
    dropped = true;
    const reader = response.body!.getReader();
    let seen = 0;
    let buffered = "";
    const decoder = new TextDecoder();
    const body = new ReadableStream<Uint8Array>({
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
            return;
          }
        }
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: fetchImpl, dropped: () => dropped, resumedWith: () => resumedWith };
}

describe("resumability", () => {
  it("resume:replay — resumes a dropped tools/call stream with Last-Event-ID: nothing lost, nothing duplicated", async () => {
    const drop = droppingFetch(1);
    const { client } = await platform.connect(acme.tenant, "everything", acme.key, { fetch: drop.fetch });
    const progress: number[] = [];
    const result = await client.callTool(
      { name: "test_tool_with_progress", arguments: {} },
      { onprogress: (p) => progress.push(p.progress), timeout: 30_000 },
    );
    expect(drop.dropped()).toBe(true);
    expect(drop.resumedWith()).toMatch(/\.\d+$/);
    expect(progress).toEqual([0, 50, 100]);
    expect(result.isError).toBeFalsy();
    await client.close();
  });
});

describe("restart", () => {
  it("resume:replay session:create — keeps using the same session after wrangler dev restarts", async () => {
    const { client, transport } = await platform.connect(acme.tenant, "notes", acme.key);
    const sessionId = transport.sessionId;
    await client.callTool({ name: "add_note", arguments: { title: "before restart", body: "kept in SQLite" } });

    await platform.stop();
    await platform.start();

    const found = await client.callTool({ name: "search_notes", arguments: { query: "kept in SQLite" } });
    expect(textOf(found)).toContain("before restart");
    expect(transport.sessionId).toBe(sessionId);
    const { tools } = await client.listTools();
    expect(tools.length).toBe(4);
    await client.close();
  });
});
