/**
 * Peer: the `agents` package's McpAgent, the way its docs write a remote MCP server.
 *
 * One McpAgent Durable Object per session (McpAgent's design) serves the shared
 * bench tools. Notes go to one shared `NotesDO`, as SMCP's notes go to the tenant's
 * object: keeping them in each session's own object would be a different feature
 * (per-session notes) and would skip the hop SMCP pays. No authentication.
 */
import { DurableObject } from "cloudflare:workers";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpAgent } from "agents/mcp";
// @ts-expect-error plain ESM module shared with the Node peer
import { NOTES_SQL, registerBenchTools, toRecords } from "../../tools.mjs";

interface Env {
  MCP_OBJECT: DurableObjectNamespace<BenchMcp>;
  NOTES: DurableObjectNamespace<NotesDO>;
}

export class NotesDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(NOTES_SQL.schema);
  }

  put(id: string, valueJson: string): void {
    this.ctx.storage.sql.exec(NOTES_SQL.put, id, valueJson, Date.now());
  }

  search(query: string, limit: number) {
    return toRecords(this.ctx.storage.sql.exec(NOTES_SQL.search, query, limit).toArray());
  }
}

export class BenchMcp extends McpAgent<Env> {
  server = new McpServer({ name: "bench-agents-peer", version: "1.0.0" });

  async init(): Promise<void> {
    const notes = this.env.NOTES.getByName("notes");
    registerBenchTools(this.server, {
      put: (id: string, valueJson: string) => notes.put(id, valueJson),
      search: (query: string, limit: number) => notes.search(query, limit),
    });
  }
}

const mcp = BenchMcp.serve("/mcp");

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> | Response {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ ok: true });
    return mcp.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
