// An MCP server written with the official SDK v2 as a factory: SMCP (or any host) calls
// createServer({ config, env }) once per session and connects its own transport. It runs
// unchanged under Node with the SDK's stdio transport too. `count` keeps its number in a
// file: on SMCP, files persist per tenant and server, across sessions and restarts.
// `slow_report` is a task tool: on SMCP's stateless lane (MCP 2026-07-28) a client that
// declares the Tasks extension gets a task for it, which the platform holds and polls.
// `approve_report` is a task tool that asks for input the 2026-07-28 way: it returns
// `inputRequired(...)`; its task waits in `input_required` until the client answers with
// `tasks/update`, and SMCP runs it again with the answer.
import { readFile, writeFile } from "node:fs/promises";
import { McpServer, acceptedContent, inputRequired } from "@modelcontextprotocol/server";
import { z } from "zod";

const COUNTER = "counter.txt"; // relative to process.cwd(), the package directory

/**
 * @param {{ config?: { greeting?: string }, env?: Record<string, string | undefined> }} [options]
 */
export function createServer({ config = {}, env = {} } = {}) {
  const server = new McpServer({ name: "v2-example", version: "1.0.0" });

  server.registerTool(
    "greet",
    { description: "Greet someone with the greeting from the deployment's config.", inputSchema: z.object({ name: z.string() }) },
    async ({ name }) => ({ content: [{ type: "text", text: `${config.greeting ?? "Hello"}, ${name}!` }] }),
  );

  server.registerTool(
    "count",
    { description: "Add one to a counter kept in a file, and return it.", inputSchema: z.object({}) },
    async () => {
      const before = Number(await readFile(COUNTER, "utf8").catch(() => "0")) || 0;
      await writeFile(COUNTER, String(before + 1));
      return { content: [{ type: "text", text: String(before + 1) }] };
    },
  );

  server.registerTool(
    "env_names",
    { description: "The names (never the values) of the environment variables the server was given.", inputSchema: z.object({}) },
    async () => ({ content: [{ type: "text", text: Object.keys(env).sort().join(", ") || "(none)" }] }),
  );

  // `execution.taskSupport` marks a task tool (registerTool takes no such option, so it is set on
  // the tool it returns). The server writes no task code: SMCP runs the call as a task.
  const report = server.registerTool(
    "slow_report",
    { description: "Wait the given number of seconds (at most 30), then say so.", inputSchema: z.object({ seconds: z.number().min(0).max(30) }) },
    async ({ seconds }) => {
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      return { content: [{ type: "text", text: `Reported after ${seconds}s` }] };
    },
  );
  report.execution = { taskSupport: "optional" };

  const approval = server.registerTool(
    "approve_report",
    { description: "Ask the caller whether to publish a report, then say what was done.", inputSchema: z.object({ title: z.string() }) },
    async ({ title }, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, "publish");
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            publish: inputRequired.elicit({ message: `Publish "${title}"?`, requestedSchema: { type: "object", properties: { publish: { type: "boolean" } }, required: ["publish"] } }),
          },
        });
      }
      return { content: [{ type: "text", text: answer.publish ? `Published "${title}"` : `Kept "${title}" as a draft` }] };
    },
  );
  approval.execution = { taskSupport: "optional" };

  return server;
}
