/**
 * The floor: a bare Worker -> Durable Object -> SQLite insert round trip.
 *
 * Every SMCP figure is divided by this one, so it must stay the minimum a real
 * platform cannot avoid and nothing more: the Worker reads the body, makes one RPC
 * call to one named Durable Object (as SMCP reaches a tenant's object), and that
 * object inserts one row (as `add_note` stores one record) and answers the id. No
 * routing, no auth, no JSON-RPC: anything SMCP adds on top is what the ratio shows.
 *
 * `?object=<name>` addresses another object, so the footprint figure can create
 * many objects holding one row each: the floor of what an idle session can cost.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  FLOOR: DurableObjectNamespace<FloorDO>;
}

export class FloorDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    );
  }

  insert(value: string): string {
    const id = crypto.randomUUID();
    this.ctx.storage.sql.exec("INSERT INTO rows (id, value, updated_at) VALUES (?, ?, ?)", id, value, Date.now());
    return id;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") return Response.json({ ok: true });
    const name = new URL(request.url).searchParams.get("object") ?? "floor";
    const id = await env.FLOOR.getByName(name).insert(await request.text());
    return Response.json({ id });
  },
} satisfies ExportedHandler<Env>;
