/** SPEC section 7: `notes` as a model server: documented order, a cursor, resource errors by the book. */
import { describe, expect, it } from "vitest";
import { callTool, mcpUrl, openSession, provisionTenant, request, statelessTool } from "./helpers";

describe("notes", () => {
  it("servers:notes — list_notes pages oldest first; nextCursor leads to the next page and is absent on the last", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const titles = ["first", "second", "third", "fourth", "fifth"];
    for (const title of titles) await callTool(session, "add_note", { title, body: "" });

    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    do {
      const page = (await callTool(session, "list_notes", { limit: 2, ...(cursor ? { cursor } : {}) })).structuredContent;
      pages.push(page.notes.length);
      seen.push(...page.notes.map((n: { title: string }) => n.title));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual(titles);
    // The stateless lane reads the same store in the same order.
    expect((await statelessTool(mcpUrl(tenant, "notes"), key, "list_notes", {})).structuredContent.notes.map((n: { title: string }) => n.title)).toEqual(titles);
  });

  // The 2026-07-28 revision makes a resources/read miss -32602 with `data.uri` on every revision (the SDK maps -32002 to it).
  it("servers:notes — reading a note that does not exist is resource-not-found (-32602 with data.uri), not an internal error", async () => {
    const { tenant, key } = await provisionTenant();
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    const message = await request(session, "resources/read", { uri: "note://0190aaaa-0000-7000-8000-000000000000" });
    expect(message.result).toBeUndefined();
    expect(message.error).toEqual({
      code: -32602,
      message: "No note 0190aaaa-0000-7000-8000-000000000000: list them with resources/list or list_notes",
      data: { uri: "note://0190aaaa-0000-7000-8000-000000000000" },
    });
  });
});
