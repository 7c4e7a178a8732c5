/**
 * The tenant's enabled servers (table `servers`): a server name is reachable at
 * `/mcp/{tenant}/{server}` only while it has a row here.
 *
 * Enabling is idempotent (`created` says whether this call added the row) and is
 * audited only when it changes something; deploying a server enables it without an
 * audit row of its own (`ensureEnabled`: the deployment is audited instead).
 */

/** What the servers need from the tenant object that hosts them. */
export interface ServersHost {
  sql: SqlStorage;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
}

export interface EnabledServer {
  name: string;
  enabledAt: number;
}

export class TenantServers {
  readonly #host: ServersHost;

  constructor(host: ServersHost) {
    this.#host = host;
  }

  get #sql() {
    return this.#host.sql;
  }

  async enable(name: string): Promise<{ ok: true; created: boolean }> {
    const written = this.#sql.exec("INSERT OR IGNORE INTO servers (name, enabled_at) VALUES (?, ?)", name, Date.now())
      .rowsWritten;
    if (written > 0) await this.#host.audit("admin", "server.enabled", name, {});
    return { ok: true, created: written > 0 };
  }

  /** Enables `name` if it is not, without an audit row (a deployment's own entry says it). */
  ensureEnabled(name: string): void {
    this.#sql.exec("INSERT OR IGNORE INTO servers (name, enabled_at) VALUES (?, ?)", name, Date.now());
  }

  async disable(name: string): Promise<{ ok: true } | { ok: false; reason: "unknown-server" }> {
    const written = this.#sql.exec("DELETE FROM servers WHERE name = ?", name).rowsWritten;
    if (written === 0) return { ok: false, reason: "unknown-server" };
    await this.#host.audit("admin", "server.disabled", name, {});
    return { ok: true };
  }

  list(): EnabledServer[] {
    return this.#sql
      .exec<{ name: string; enabled_at: number }>("SELECT name, enabled_at FROM servers ORDER BY name")
      .toArray()
      .map((s) => ({ name: s.name, enabledAt: s.enabled_at }));
  }

  isEnabled(name: string): boolean {
    return this.#sql.exec("SELECT 1 FROM servers WHERE name = ?", name).toArray().length > 0;
  }
}
