// Streams that drop and a platform that restarts: the session lane must lose nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { droppingFetch } from "./dropping-fetch";
import { Platform, textOf } from "./platform";

const platform = new Platform();
let acme: { tenant: string; key: string };

beforeAll(async () => {
  await platform.start();
  acme = await platform.tenant("acme");
});
afterAll(() => platform.dispose());

describe("resumability", () => {
  it("resume:replay — resumes a dropped tools/call stream with Last-Event-ID: nothing lost, nothing duplicated", async () => {
    const drop = droppingFetch({ keep: 1 });
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
