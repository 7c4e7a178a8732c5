/**
 * A session of a built-in server that stays idle drops its SDK objects (server,
 * transport, backend) and is rebuilt on its next request from storage, with the
 * protocol state its client set (log level, resource subscriptions): the client
 * notices nothing. Dropping waits for the report interval (5 s, REPORT_INTERVAL_MS in
 * session-do.ts), so these tests wait that long for real; they assert no timings.
 */
import { describe, expect, it } from "vitest";
import { SseReader, adminOk, callTool, mcpUrl, messagesOf, openSession, openStream, provisionTenant, request, rpc, send, textOf, type Session } from "./helpers";

const PAST_IDLE_MS = 5_600;
const idle = () => new Promise((r) => setTimeout(r, PAST_IDLE_MS));
const RESOURCE = "test://static-text";

const loaded = async (tenant: string, session: Session): Promise<boolean> =>
  (await adminOk("GET", `/tenants/${tenant}/sessions/${session.sessionId}`)).loaded;

/** The messages of a tools/call's SSE answer, up to and with its response. */
async function callMessages(session: Session, name: string, args: Record<string, unknown> = {}): Promise<any[]> {
  const res = await send(session, rpc("tools/call", { name, arguments: args }));
  expect(res.status).toBe(200);
  return messagesOf(await new SseReader(res).rest());
}

describe("idle sessions drop their SDK objects", () => {
  it("session:idle-drop resume:replay — a dropped session is rebuilt on its next request with its log level and subscriptions", { timeout: 30_000 }, async () => {
    const { tenant, key } = await provisionTenant({ servers: ["everything"] });
    const session = await openSession(mcpUrl(tenant, "everything"), key);
    expect((await request(session, "logging/setLevel", { level: "warning" })).error).toBeUndefined();
    expect((await request(session, "resources/subscribe", { uri: RESOURCE })).error).toBeUndefined();
    expect(await loaded(tenant, session)).toBe(true);

    await idle();
    expect(await loaded(tenant, session)).toBe(false);

    // The next request rebuilds it: the GET stream is where a resource update goes.
    const stream = new SseReader(await openStream(session));
    const [priming] = await stream.take(1);
    expect(priming!.data).toBe("");
    expect(await loaded(tenant, session)).toBe(true);
    expect(textOf(await callTool(session, "test_touch_resource", { uri: RESOURCE }))).toBe(`announced an update of ${RESOURCE}`);
    const [update] = messagesOf(await stream.take(1));
    expect(update).toEqual({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri: RESOURCE } });
    await stream.cancel();

    // The level still holds: the tool's info-level logs stay below "warning", only the answer comes.
    const messages = await callMessages(session, "test_tool_with_logging");
    expect(messages.map((m) => m.method ?? "response")).toEqual(["response"]);
    expect(textOf(messages[0].result)).toBe("Tool with logging executed successfully");
  });

  it("session:idle-drop — a session keeps its SDK objects while a stream is open, and drops them once it closed", { timeout: 30_000 }, async () => {
    const { tenant, key } = await provisionTenant({ servers: ["everything"] });
    const session = await openSession(mcpUrl(tenant, "everything"), key);
    // With no level set, the same tool's logs do reach the client: the test above can fail.
    expect((await callMessages(session, "test_tool_with_logging")).filter((m) => m.method === "notifications/message")).toHaveLength(3);
    const stream = new SseReader(await openStream(session));
    await stream.take(1);

    await idle();
    expect(await loaded(tenant, session)).toBe(true);
    await stream.cancel();
    await idle();
    expect(await loaded(tenant, session)).toBe(false);
    expect(textOf(await callTool(session, "test_simple_text"))).toBe("This is a simple text response for testing.");
  });
});
