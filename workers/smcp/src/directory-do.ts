/**
 * DirectoryDO: the platform's list of tenant ids, so admins can enumerate tenants.
 * It holds names only; every tenant's data stays in that tenant's own TenantDO.
 * Only the admin API touches it, never the MCP request path.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";

export class DirectoryDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)");
  }

  async add(id: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)", id, Date.now());
  }

  async remove(id: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM tenants WHERE id = ?", id);
  }

  async list(): Promise<string[]> {
    return this.ctx.storage.sql.exec<{ id: string }>("SELECT id FROM tenants ORDER BY id").toArray().map((r) => r.id);
  }
}
