/**
 * DirectoryDO: the platform's list of tenant ids, so admins can enumerate tenants.
 * It holds names only; every tenant's data stays in that tenant's own TenantDO.
 * Only the admin API touches it, never the MCP request path.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";
import { migrate, type MigrationList } from "./storage/migrations";

/**
 * The directory's schema as one numbered migration list (runner: storage/migrations.ts).
 * HOW TO ADD A STEP: append one entry at the END of `steps`; never edit, reorder or
 * remove a shipped step; update docs/storage-schema.md in the same commit. Step 1 is
 * idempotent because directories created before the list existed have schema version 0.
 */
export const DIRECTORY_MIGRATIONS: MigrationList = {
  name: "DirectoryDO",
  steps: [
    // 1 (e28d9c2): the tenant ids.
    "CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    // Append new steps here.
  ],
};

export class DirectoryDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The one directory object always holds the list, so it migrates unconditionally.
    migrate(ctx.storage, DIRECTORY_MIGRATIONS);
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
