/**
 * The check in front of a built-in server's `tools/call` (packages/servers/src/strict-tool-calls.ts)
 * hands its validation to the SDK's own: a call's arguments are parsed once, and bad ones
 * still get -32602.
 */
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { strictToolCalls } from "../../packages/servers/src/strict-tool-calls";

async function connected(parses: { n: number }) {
  const input = z.object({ text: z.string().refine(() => ++parses.n > 0) });
  const server = new McpServer({ name: "t", version: "1" });
  server.registerTool("echo", { inputSchema: input }, async ({ text }) => ({ content: [{ type: "text", text }] }));
  strictToolCalls(server);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "c", version: "1" });
  await client.connect(b);
  return client;
}

describe("strict tool calls", () => {
  it("input:invalid-params servers:module — a built-in tool's arguments are validated once per call, and bad ones still get -32602", async () => {
    const parses = { n: 0 };
    const client = await connected(parses);
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(result.content).toEqual([{ type: "text", text: "hi" }]);
    expect(parses.n).toBe(1);
    await client.callTool({ name: "echo", arguments: { text: "again" } });
    expect(parses.n).toBe(2);
    await expect(client.callTool({ name: "echo", arguments: { text: 1 } })).rejects.toMatchObject({ code: -32602 });
  });
});
