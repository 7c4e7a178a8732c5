// The bounded body reader (packages/runtime/src/body.ts): declared and streamed lengths,
// UTF-8, and the JSON-RPC shape check the edge runs before choosing a lane.
import { describe, expect, it } from "vitest";
import { looksLikeJsonRpc, readBoundedUtf8, readJsonBody } from "../../packages/runtime/src/body";
import { WireError } from "../../packages/runtime/src/errors";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("https://smcp.test/mcp/a/b", { method: "POST", body, headers, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);

/** A body without Content-Length, in the given chunks; records how many were pulled. */
function streamed(chunks: Uint8Array[]): { request: Request; pulled: () => number; cancelled: () => boolean } {
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  const request = post(stream);
  expect(request.headers.get("content-length")).toBeNull();
  return { request, pulled: () => i, cancelled: () => cancelled };
}

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

describe("readBoundedUtf8", () => {
  it("input:body-size — reads a declared body up to the limit exactly", async () => {
    expect(await readBoundedUtf8(post("a".repeat(100)), 100)).toEqual({ ok: true, text: "a".repeat(100) });
    expect(await readBoundedUtf8(post("a".repeat(101)), 100)).toEqual({ ok: false, reason: "too-large" });
  });

  it("input:body-size — refuses from a declared Content-Length alone, before reading", async () => {
    const request = post("tiny", { "content-length": "5000" });
    expect(await readBoundedUtf8(request, 100)).toEqual({ ok: false, reason: "too-large" });
    expect(request.bodyUsed).toBe(false);
  });

  it("input:body-size — counts bytes, not characters", async () => {
    // "é" is 2 bytes: 50 of them are 100 bytes, 51 are 102.
    expect(await readBoundedUtf8(post("é".repeat(50)), 100)).toEqual({ ok: true, text: "é".repeat(50) });
    expect(await readBoundedUtf8(post("é".repeat(51)), 100)).toEqual({ ok: false, reason: "too-large" });
  });

  it("input:body-size — stops a streamed body as soon as it passes the limit, and cancels it", async () => {
    const chunks = Array.from({ length: 100 }, () => bytes(64));
    const s = streamed(chunks);
    expect(await readBoundedUtf8(s.request, 200)).toEqual({ ok: false, reason: "too-large" });
    // 4 chunks of 64 = 256 > 200: the reader stops at the fourth.
    expect(s.pulled()).toBe(4);
    expect(s.cancelled()).toBe(true);
  });

  it("input:body-size — joins a streamed body's chunks in order, a multi-byte character split across them included", async () => {
    const text = "añb🦀c";
    const encoded = new TextEncoder().encode(text);
    const s = streamed([encoded.slice(0, 2), encoded.slice(2, 5), encoded.slice(5)]);
    expect(await readBoundedUtf8(s.request, 100)).toEqual({ ok: true, text });
  });

  it("input:body-size — a streamed body of exactly the limit passes", async () => {
    const s = streamed([bytes(60), bytes(40)]);
    expect(await readBoundedUtf8(s.request, 100)).toEqual({ ok: true, text: "a".repeat(100) });
  });

  it("input:body-size — refuses bytes that are not UTF-8", async () => {
    expect(await readBoundedUtf8(post(new Uint8Array([0x7b, 0xff, 0x7d])), 100)).toEqual({ ok: false, reason: "not-utf8" });
    expect(await readBoundedUtf8(streamed([new Uint8Array([0xc3])]).request, 100)).toEqual({ ok: false, reason: "not-utf8" });
  });

  it("input:body-size — an absent body is empty text", async () => {
    expect(await readBoundedUtf8(new Request("https://smcp.test/", { method: "POST" }), 100)).toEqual({ ok: true, text: "" });
  });
});

describe("readJsonBody", () => {
  async function failure(request: Request, max = 100): Promise<WireError> {
    const err = await readJsonBody(request, max).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WireError);
    return err as WireError;
  }

  it("input:body-size — returns the text and the parsed value", async () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    expect(await readJsonBody(post(text), 100)).toEqual({ text, json: { jsonrpc: "2.0", id: 1, method: "ping" } });
  });

  it("input:body-size — maps each failure to its wire error", async () => {
    expect(await failure(post("x".repeat(101)))).toMatchObject({ status: 413, code: "body_too_large", message: "Request body exceeds 100 bytes" });
    expect(await failure(post("   \n"))).toMatchObject({ status: 400, rpcCode: -32700, message: "Parse error: empty body" });
    expect(await failure(post("{nope"))).toMatchObject({ status: 400, rpcCode: -32700, message: "Parse error: body is not valid JSON" });
    expect(await failure(post(new Uint8Array([0x22, 0xfe, 0x22])))).toMatchObject({ status: 400, rpcCode: -32700, message: "Parse error: body is not valid UTF-8" });
  });
});

describe("looksLikeJsonRpc", () => {
  it("input:body-size — accepts requests, notifications, responses and non-empty batches of them", () => {
    for (const m of [
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 1, result: {} },
      { jsonrpc: "2.0", id: null, error: { code: -32700, message: "x" } },
      [{ jsonrpc: "2.0", method: "a" }, { jsonrpc: "2.0", id: 2, result: null }],
    ]) {
      expect(looksLikeJsonRpc(m), JSON.stringify(m)).toBe(true);
    }
  });

  it("input:body-size — refuses anything else", () => {
    for (const m of [
      null,
      1,
      "ping",
      [],
      [[]],
      {},
      { jsonrpc: "1.0", id: 1, method: "ping" },
      { jsonrpc: 2, id: 1, method: "ping" },
      { id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 1, method: 7 },
      { jsonrpc: "2.0", id: 1 },
      { jsonrpc: "2.0", result: {} },
      [{ jsonrpc: "2.0", method: "a" }, 5],
    ]) {
      expect(looksLikeJsonRpc(m), JSON.stringify(m)).toBe(false);
    }
  });
});
