/**
 * SPEC section 3, resumability: every SSE event is in the session Durable Object's
 * SQLite log; a client that reconnects with `Last-Event-ID` gets exactly what followed
 * on that stream; pruned and unknown ids are refused without harming the session.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  MAX_EVENTS,
  SseReader,
  adminOk,
  callTool,
  eventRows,
  expectRpcError,
  mcpUrl,
  messagesOf,
  openSession,
  openStream,
  provisionTenant,
  rpc,
  send,
  sessionStub,
  type EventRow,
  type Session,
  type SseEvent,
} from "./helpers";

const seqOf = (id: string) => Number(id.slice(id.lastIndexOf(".") + 1));
const streamOf = (id: string) => id.slice(0, id.lastIndexOf("."));

/** The events a client should see on `streamId` after `afterId`: stored, in order, priming events left out. */
function expectedAfter(rows: EventRow[], afterId: string): { id: string; message: unknown }[] {
  return rows
    .filter((r) => r.streamId === streamOf(afterId) && r.seq > seqOf(afterId) && r.message !== "{}")
    .map((r) => ({ id: r.id, message: JSON.parse(r.message) }));
}

const onWire = (events: SseEvent[]) => events.filter((e) => e.data !== "").map((e) => ({ id: e.id, message: JSON.parse(e.data) }));

async function everythingSession(): Promise<{ tenant: string; session: Session }> {
  const { tenant, key } = await provisionTenant({ servers: ["everything"] });
  return { tenant, session: await openSession(mcpUrl(tenant, "everything"), key) };
}

const callLoggingTool = (session: Session) => send(session, rpc("tools/call", { name: "test_tool_with_logging", arguments: {} }));

describe("event log", () => {
  it("resume:replay — every SSE event sent is a row of the session's SQLite events table, same id, same message", async () => {
    const { tenant, session } = await everythingSession();
    const res = await callLoggingTool(session);
    const events = await new SseReader(res).rest();
    expect(messagesOf(events).map((m) => m.method ?? "response")).toEqual([
      "notifications/message",
      "notifications/message",
      "notifications/message",
      "response",
    ]);

    const rows = await eventRows(sessionStub(tenant, "everything", session.sessionId));
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const event of [...session.initEvents, ...events]) {
      const row = byId.get(event.id!);
      expect(row, event.id).toBeDefined();
      // A priming event is stored with the requests its stream answers (for after a restart); sent empty.
      const stored = JSON.parse(row!.message);
      if (event.data === "") expect(Object.keys(stored).filter((k) => k !== "smcp:requests")).toEqual([]);
      else expect(stored).toEqual(JSON.parse(event.data));
    }

    // The admin API shows the same log.
    const page = await adminOk<{ events: { id: string }[] }>("GET", `/tenants/${tenant}/sessions/${session.sessionId}/events?limit=100`);
    expect(page.events.map((e) => e.id)).toEqual(rows.map((r) => r.id));
  });

  it("resume:priming — each 2025-11-25 POST stream starts with a priming event (id, empty data, retry:)", async () => {
    const { session } = await everythingSession();
    const [priming, ...rest] = await new SseReader(await callLoggingTool(session)).rest();
    expect(priming).toEqual({ id: expect.stringMatching(/\.\d+$/), data: "", retry: 250 });
    for (const event of rest) expect(streamOf(event.id!)).toBe(streamOf(priming!.id!));
  });

  it("resume:priming — 2025-03-26 streams carry no empty-data event an older client would misparse", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["everything"] });
    const session = await openSession(mcpUrl(tenant, "everything"), key, "2025-03-26");
    const events = await new SseReader(await callLoggingTool(session)).rest();
    expect(events.length).toBe(4);
    for (const event of [...session.initEvents, ...events]) expect(event.data).not.toBe("");
  });
});

describe("resume with Last-Event-ID", () => {
  it("resume:replay mcp:sse-resume-per-stream — a cut POST stream resumes with exactly the events after Last-Event-ID, none lost or repeated", async () => {
    const { tenant, session } = await everythingSession();
    const cut = new SseReader(await callLoggingTool(session));
    const seen = await cut.take(2); // priming + "Tool execution started"
    expect(seen[0]!.data).toBe("");
    expect(JSON.parse(seen[1]!.data).params.data).toBe("Tool execution started");
    await cut.cancel(); // the connection drops mid-call

    const resumed = await openStream(session, seen[1]!.id);
    expect(resumed.status).toBe(200);
    const replayed = await new SseReader(resumed).rest();

    const messages = messagesOf(replayed);
    expect(messages.map((m) => m.params?.data ?? "response")).toEqual(["Tool processing data", "Tool execution completed", "response"]);
    expect(messages.at(-1).result.content[0].text).toBe("Tool with logging executed successfully");

    const rows = await eventRows(sessionStub(tenant, "everything", session.sessionId));
    expect(onWire(replayed)).toEqual(expectedAfter(rows, seen[1]!.id!));
    const ids = [...seen, ...replayed].map((e) => e.id!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map(seqOf)).toEqual([...ids.map(seqOf)].sort((a, b) => a - b));
  });

  it("resume:replay — resuming from a stream's priming event replays the whole stream", async () => {
    const { tenant, session } = await everythingSession();
    const cut = new SseReader(await callLoggingTool(session));
    const [priming] = await cut.take(1);
    await cut.cancel();

    const replayed = await new SseReader(await openStream(session, priming!.id)).rest();
    expect(messagesOf(replayed)).toHaveLength(4);
    const rows = await eventRows(sessionStub(tenant, "everything", session.sessionId));
    expect(onWire(replayed)).toEqual(expectedAfter(rows, priming!.id!));
  });

  it("resume:replay mcp:sse-resume-per-stream — the standalone GET stream resumes with the notifications sent while it was down", async () => {
    const { tenant, session } = await everythingSession();
    const trigger = () => callTool(session, "test_trigger_tool_change");

    const live = new SseReader(await openStream(session));
    const [priming] = await live.take(1);
    await trigger();
    const [first] = await live.take(1);
    expect(JSON.parse(first!.data).method).toBe("notifications/tools/list_changed");
    expect(streamOf(first!.id!)).toBe(streamOf(priming!.id!));
    await live.cancel();

    await trigger(); // sent while no GET stream is open: only the log has it
    await trigger();

    const resumed = new SseReader(await openStream(session, first!.id));
    const missed = await resumed.take(2);
    expect(missed.map((e) => JSON.parse(e.data).method)).toEqual(["notifications/tools/list_changed", "notifications/tools/list_changed"]);
    expect(missed.map((e) => seqOf(e.id!))).toEqual([...missed.map((e) => seqOf(e.id!))].sort((a, b) => a - b));
    expect(missed.every((e) => seqOf(e.id!) > seqOf(first!.id!))).toBe(true);
    // ...then live events on the resumed stream.
    await trigger();
    const [next] = await resumed.take(1);
    await resumed.cancel();
    // The standalone stream's log after `first` is exactly the two missed events and the live one.
    const rows = await eventRows(sessionStub(tenant, "everything", session.sessionId));
    const after = rows.filter((r) => r.streamId === streamOf(first!.id!) && r.seq > seqOf(first!.id!)).map((r) => r.id);
    expect(after).toEqual([...missed, next].map((e) => e!.id));
  });

  it("resume:replay — the log is in SQLite, so a stream resumes after the Durable Object was evicted", async () => {
    const { tenant, session } = await everythingSession();
    const events = await new SseReader(await callLoggingTool(session)).rest();
    await evictDurableObject(sessionStub(tenant, "everything", session.sessionId));

    const replayed = await new SseReader(await openStream(session, events[1]!.id)).rest();
    expect(onWire(replayed)).toEqual(onWire(events.slice(2)));
  });

  it("resume:bounded — a Last-Event-ID pruned from the bounded log gets 409 with a JSON-RPC error; the session stays valid", async () => {
    const { tenant, session } = await everythingSession();
    const oldest = session.initEvents.at(-1)!.id!;
    // Each call streams a priming event, three log messages and a response: push the initialize events out of the log.
    for (let i = 0; i < MAX_EVENTS / 5 + 1; i++) await new SseReader(await callLoggingTool(session)).rest();

    const stub = sessionStub(tenant, "everything", session.sessionId);
    const rows = await eventRows(stub);
    // The count bound is the one reached: exactly the newest MAX_EVENTS, contiguous.
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: MAX_EVENTS }, (_, i) => rows.at(-1)!.seq - MAX_EVENTS + 1 + i));
    expect(rows[0]!.seq).toBeGreaterThan(seqOf(oldest));

    const error = await expectRpcError(await openStream(session, oldest), 409);
    expect(error.message).toMatch(/no longer in this session's event log/);

    const view = await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}`);
    expect(view.eventLog.events).toBe(MAX_EVENTS);
    expect(view.eventLog.prunedThrough).toBe(view.eventLog.lastSeq - MAX_EVENTS);
    // Still the same, working session.
    expect((await callTool(session, "test_simple_text")).content).toHaveLength(1);
    const stream = new SseReader(await openStream(session));
    expect((await stream.take(1))[0]!.data).toBe("");
    await stream.cancel();
  });

  it("resume:replay — a malformed or unknown Last-Event-ID gets 400, not a silent empty stream", async () => {
    const { session } = await everythingSession();
    const events = await new SseReader(await callLoggingTool(session)).rest();
    const last = events.at(-1)!.id!;
    const bad = [
      "garbage",
      "",
      ".5",
      "stream.",
      "stream.-1",
      `${streamOf(last)}.${seqOf(last) + 1000}`, // well-formed, never issued
      `_GET_stream.${seqOf(last)}`, // a real seq, named with the wrong stream
      `other-stream.${seqOf(last)}`,
      `${streamOf(last)}.1e3`,
    ];
    for (const id of bad) {
      const res = await openStream(session, id);
      expect(res.status, JSON.stringify(id)).toBe(400);
      await expectRpcError(res, 400);
    }
    await callTool(session, "test_simple_text");
  });
});
