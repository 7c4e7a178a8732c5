/** A session object's JSON answer as plain data across its RPC call, and the Response the Worker builds from it. */
import { describe, expect, it } from "vitest";
import { fromSessionAnswer, inlineableResponse, toSessionAnswer } from "../../workers/smcp/src/mcp/session-answer";

describe("session answers across the RPC call", () => {
  it("session:json-answer — a JSON answer crosses as data and becomes the same Response: status, content type, session header and body", async () => {
    const text = JSON.stringify({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "é" }] } });
    const answer = toSessionAnswer(inlineableResponse(text, { status: 200, headers: { "content-type": "application/json", "mcp-session-id": "S1" } }));
    expect(answer).toEqual({ inline: true, status: 200, headers: { "content-type": "application/json", "mcp-session-id": "S1" }, body: text });
    // Plain data survives structured cloning, which is how an RPC result travels.
    const res = fromSessionAnswer(structuredClone(answer));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("mcp-session-id")).toBe("S1");
    expect(await res.text()).toBe(text);
  });

  it("session:streams — any other response (an SSE stream, an error) stays a Response and passes through untouched", async () => {
    const sse = new Response("event: message\ndata: {}\n\n", { headers: { "content-type": "text/event-stream" } });
    expect(toSessionAnswer(sse)).toBe(sse);
    expect(fromSessionAnswer(sse)).toBe(sse);
    const error = Response.json({ error: 1 }, { status: 400 });
    expect(toSessionAnswer(error)).toBe(error);
  });
});
