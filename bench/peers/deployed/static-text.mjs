// The bench's deployed SDK server: one tool written with the official SDK v2 as a
// `createServer` factory, deployed by `pnpm bench` with `smcp deploy` (the real CLI).
// It behaves as the built-in `everything` server's `test_simple_text`, the tool the
// bench already calls as SMCP's echo stand-in (no input, the same static text), so the
// deployed and built-in figures differ only in where the server runs.
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

/** The built-in tool's text, as packages/servers/src/everything-data.ts has it. */
const TEXT = "This is a simple text response for testing.";

export function createServer() {
  const server = new McpServer({ name: "bench-static-text", version: "1.0.0" });
  server.registerTool(
    "test_simple_text",
    { description: "Tests simple text content response", inputSchema: z.object({}) },
    async () => ({ content: [{ type: "text", text: TEXT }] }),
  );
  return server;
}
