/**
 * Issue 18 item 9: the session lane answers a POST with one JSON body when the answer is
 * ready within the budget (SMCP_SESSION_JSON_BUDGET_MS, 50 ms by default) and nothing was
 * sent for it before; with a primed, logged, resumable SSE stream otherwise.
 */
import { describe, expect, it } from "vitest";
import {
  SseReader,
  eventRows,
  mcpUrl,
  messagesOf,
  openSession,
  openStream,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  textOf,
  type Session,
} from "./helpers";

async function everythingSession(): Promise<{ tenant: string; session: Session }> {
  const { tenant, key } = await provisionTenant({ servers: ["everything"] });
  return { tenant, session: await openSession(mcpUrl(tenant, "everything"), key) };
}

const call = (session: Session, name: string, args: Record<string, unknown> = {}) => send(session, rpc("tools/call", { name, arguments: args }));

describe("JSON answers on the session lane", () => {
  it("session:json-answer session:streams — a call answered at once is one JSON body with the session header, and writes nothing to the event log", async () => {
    const { tenant, session } = await everythingSession();
    const stub = sessionStub(tenant, "everything", session.sessionId);
    const before = await eventRows(stub);
    const res = await call(session, "test_simple_text");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("mcp-session-id")).toBe(session.sessionId);
    const message = await res.json<any>();
    expect(message.id).toBeDefined();
    expect(textOf(message.result)).toMatch(/simple text/i);
    expect(await eventRows(stub)).toEqual(before);
  });

  it("session:json-answer resume:replay — a call that logs before answering streams: primed, every event in the log", async () => {
    const { tenant, session } = await everythingSession();
    const res = await call(session, "test_tool_with_logging");
    const events = await new SseReader(res).rest();
    expect(events[0]).toEqual({ id: expect.stringMatching(/\.\d+$/), data: "", retry: 250 });
    expect(messagesOf(events).map((m) => m.method ?? "response")).toEqual(["notifications/message", "notifications/message", "notifications/message", "response"]);
    const stored = new Set((await eventRows(sessionStub(tenant, "everything", session.sessionId))).map((r) => r.id));
    for (const event of events) expect(stored.has(event.id!), event.id).toBe(true);
  });

  it("session:json-answer resume:replay resume:priming — a call slower than the budget streams from its priming event, and a client cut off after it resumes to the answer", async () => {
    const { session } = await everythingSession();
    const res = await call(session, "slow_compute", { seconds: 0.3 });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const cut = new SseReader(res);
    const [priming] = await cut.take(1);
    expect(priming).toMatchObject({ data: "", retry: 250 });
    await cut.cancel();
    const resumed = await openStream(session, priming!.id);
    expect(resumed.status).toBe(200);
    const replayed = messagesOf(await new SseReader(resumed).rest());
    expect(replayed).toHaveLength(1);
    expect(textOf(replayed[0].result)).toBe("Computed result after 0.3s");
  });

  it("session:json-answer — two calls in a row each answer as JSON, and a notification still gets 202", async () => {
    const { session } = await everythingSession();
    const first = await call(session, "test_simple_text");
    const second = await call(session, "test_simple_text");
    for (const res of [first, second]) {
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect((await res.json<any>()).result).toBeDefined();
    }
    const ack = await send(session, { jsonrpc: "2.0", method: "notifications/roots/list_changed" });
    expect(ack.status).toBe(202);
    await ack.body?.cancel();
  });
});
