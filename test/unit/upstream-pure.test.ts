/** The gateway's pure parts: the bounded SSE reader, secret references in headers, and the WWW-Authenticate reader. */
import { describe, expect, it } from "vitest";
import { readSse, SseLimitError } from "../../workers/smcp/src/gateway/sse";
import { resolveHeaders, secretRefs } from "../../workers/smcp/src/gateway/upstream-config";
import { resourceMetadataOf } from "../../workers/smcp/src/gateway/upstream-client";
import { modernHeaders } from "../../workers/smcp/src/gateway/modern-upstream";

const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
      c.close();
    },
  });

async function events(stream: ReadableStream<Uint8Array>, limits = { maxLineChars: 1000, maxEventChars: 1000 }) {
  const out = [];
  for await (const e of readSse(stream, limits)) out.push(e);
  return out;
}

describe("gateway SSE reader", () => {
  it("untrusted:messages — events split across chunks and line endings, comments and priming events, multi-line data, an unfinished last event dropped", async () => {
    const got = await events(streamOf("id: 1\nevent: message\nda", "ta: {\"a\":1}\r", "\n\r\n: comment\ndata: x\ndata: y\n\nid: 2\ndata:\n\n", "data: last"));
    expect(got).toEqual([
      { event: "message", data: '{"a":1}', id: "1" },
      { event: "message", data: "x\ny", id: "1" },
      { event: "message", data: "", id: "2" },
    ]);
    // An event the stream ends in the middle of is dropped, as the SSE standard says.
  });

  it("untrusted:messages — a character whose UTF-8 bytes are split across chunks, and a line that arrives over many chunks, read whole", async () => {
    const bytes = new TextEncoder().encode(`data: {"t":"é€😀${"z".repeat(300)}"}\n\n`);
    const chunks = [];
    for (let at = 0; at < bytes.length; at += 7) chunks.push(bytes.slice(at, at + 7));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    expect(await events(stream)).toEqual([{ event: "message", data: `{"t":"é€😀${"z".repeat(300)}"}`, id: null }]);
  });

  it("untrusted:messages — a line or an event past its cap ends the stream with SseLimitError", async () => {
    await expect(events(streamOf("data: " + "x".repeat(2000)), { maxLineChars: 100, maxEventChars: 10_000 })).rejects.toBeInstanceOf(SseLimitError);
    await expect(events(streamOf("data: aaaa\n".repeat(50) + "\n"), { maxLineChars: 100, maxEventChars: 100 })).rejects.toBeInstanceOf(SseLimitError);
  });
});

describe("upstream headers", () => {
  it("upstream:admin — secret references are found and filled in; a missing secret is named", () => {
    const headers = { authorization: "Bearer ${secret:TOKEN}", "x-pair": "${secret:A}:${secret:TOKEN}", plain: "v" };
    expect(secretRefs(headers).sort()).toEqual(["A", "TOKEN"]);
    expect(resolveHeaders(headers, [{ name: "TOKEN", value: "t0k" }])).toEqual({ ok: false, missing: ["A"] });
    expect(resolveHeaders(headers, [{ name: "TOKEN", value: "t0k" }, { name: "A", value: "$&" }])).toEqual({ ok: true, headers: { authorization: "Bearer t0k", "x-pair": "$&:t0k", plain: "v" } });
  });

  it("upstream:session-relay — the resource_metadata URL of a Bearer challenge, quoted or not; anything else is ignored", () => {
    expect(resourceMetadataOf('Bearer error="invalid_token", resource_metadata="https://up.example.com/.well-known/oauth-protected-resource"')).toBe("https://up.example.com/.well-known/oauth-protected-resource");
    expect(resourceMetadataOf("Bearer resource_metadata=https://up.example.com/m")).toBe("https://up.example.com/m");
    expect(resourceMetadataOf('Bearer resource_metadata="javascript:alert(1)"')).toBeNull();
    expect(resourceMetadataOf(null)).toBeNull();
  });
});

describe("2026 upstream headers", () => {
  it("upstream:2026-upstream — Mcp-Method and Mcp-Name come from the body (non-ASCII as base64 between sentinels), the client's Mcp-Param-* pass bounded, nothing else of the client's does", () => {
    const client = new Headers({ authorization: "Bearer smcp-key", "mcp-method": "tools/list", "mcp-param-region": "eu" });
    expect(modernHeaders({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } }, client)).toEqual({ "mcp-method": "tools/call", "mcp-name": "echo", "mcp-param-region": "eu" });
    expect(modernHeaders({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "file:///é" } }, new Headers())["mcp-name"]).toBe(`=?base64?${Buffer.from("file:///é").toString("base64")}?=`);
    expect(modernHeaders({ jsonrpc: "2.0", id: 1, method: "tools/list" }, new Headers())).toEqual({ "mcp-method": "tools/list" });
    expect(modernHeaders({ jsonrpc: "2.0", method: "notifications/cancelled" }, client)).toEqual({});
  });
});
