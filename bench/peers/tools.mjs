/**
 * The tools every peer serves, written once so that the SDK's Node server and the
 * `agents` McpAgent run exactly the same code: the same schemas, the same results
 * as SMCP's `notes` server (`add_note`, `search_notes`), an `echo`, and the
 * `everything` fixtures SMCP's figures use: `test_trigger_tool_change` (resume) and
 * `test_tool_with_progress` (the streamed call of the idle-footprint figure).
 *
 * It takes the `McpServer` to register on and a notes store, so it works with the
 * SDK v2 server (Node peer) and the SDK v1 server McpAgent still requires; both
 * accept a zod object as `inputSchema`.
 */
import { z } from "zod";

const text = (value) => ({ content: [{ type: "text", text: value }] });
const asNote = (record) => ({ id: record.id, ...record.value, updatedAt: record.updatedAt });

/**
 * @param {{ registerTool: Function, sendToolListChanged: Function }} server
 * @param {{ put(id: string, valueJson: string): unknown, search(text: string, limit: number): Promise<{id: string, value: unknown, updatedAt: number}[]> | {id: string, value: unknown, updatedAt: number}[] }} notes
 */
export function registerBenchTools(server, notes) {
  server.registerTool(
    "add_note",
    {
      title: "Add note",
      description: "Store a note and return its id.",
      inputSchema: z.object({ title: z.string().min(1).max(200), body: z.string().max(100_000) }),
      outputSchema: z.object({ id: z.string() }),
    },
    async ({ title, body }) => {
      const id = crypto.randomUUID();
      await notes.put(id, JSON.stringify({ title, body }));
      return { ...text(`Added note ${id}`), structuredContent: { id } };
    },
  );

  server.registerTool(
    "search_notes",
    {
      title: "Search notes",
      description: "Find notes whose title or body contains the query (case-insensitive).",
      inputSchema: z.object({ query: z.string().min(1).max(200), limit: z.number().int().min(1).max(500).optional() }),
    },
    async ({ query, limit }) => {
      const found = (await notes.search(query, limit ?? 50)).map(asNote);
      return { ...text(JSON.stringify(found)), structuredContent: { notes: found } };
    },
  );

  server.registerTool(
    "echo",
    { description: "Returns its input text.", inputSchema: z.object({ text: z.string().max(10_000) }) },
    async ({ text: value }) => text(value),
  );

  // As everything's fixture: progress 0, 50, 100 of 100 on the call's own stream, when the client gave a token.
  server.registerTool(
    "test_tool_with_progress",
    { description: "Reports progress 0, 50, 100 of 100 when given a progress token", inputSchema: z.object({}) },
    async (_args, ctx) => {
      // SDK v2 puts the request's `_meta` and `notify` on `ctx.mcpReq`; v1 (McpAgent) on the handler's extra itself.
      const progressToken = ctx?.mcpReq?._meta?.progressToken ?? ctx?._meta?.progressToken;
      const notify = ctx?.mcpReq?.notify ?? ctx?.sendNotification;
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await notify({ method: "notifications/progress", params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` } });
          if (progress < 100) await new Promise((r) => setTimeout(r, 50));
        }
      }
      return text(String(progressToken ?? "no-progress-token"));
    },
  );

  server.registerTool(
    "test_trigger_tool_change",
    { description: "Publishes notifications/tools/list_changed", inputSchema: z.object({}) },
    async () => {
      await server.sendToolListChanged();
      return text("tools_list_changed published");
    },
  );
}

/** The SQL both peers' notes stores run, the same statements as SMCP's tenant object. */
export const NOTES_SQL = {
  schema: "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)",
  put: "INSERT OR REPLACE INTO notes (id, value, updated_at) VALUES (?, ?, ?)",
  search: "SELECT id, value, updated_at FROM notes WHERE instr(lower(value), lower(?)) > 0 ORDER BY id LIMIT ?",
};

/** Rows of `NOTES_SQL.search` as the records `registerBenchTools` expects. */
export const toRecords = (rows) => rows.map((r) => ({ id: r.id, value: JSON.parse(r.value), updatedAt: r.updated_at }));
