/**
 * A tenant's deployed servers, in the tenant's own SQLite: every uploaded module as
 * an immutable version, which version is active, the egress allow-list, and the
 * call and error counts the sandbox reports.
 *
 * The TenantDO owns the storage and calls in here through thin RPC wrappers; this
 * module owns the rules. A version's bytes never change (a trigger refuses it), so
 * rolling back is only a change of which row is `active`. The tables are steps 4 and 8
 * of the tenant's migration list (tenant-schema.ts). See docs/storage-schema.md.
 *
 * Old versions are pruned, but never one a live session may still run: a session
 * keeps the module it was built with (resolve-server.ts), built at the earliest when
 * it was created, from the version active then or, through an isolate's cache, up to
 * `ACTIVE_DEPLOYMENT_CACHE_MS` before. So a version that stopped being active
 * (`retired_at`) after that point, less the cache time, for the oldest live session of
 * the server, stays. This needs no report from sessions; it keeps a few versions more
 * than strictly needed while an old session lives (one rebuilt after eviction runs the
 * active version, but keeps its creation time).
 */
import { ACTIVE_DEPLOYMENT_CACHE_MS, SANDBOX_LIMITS } from "./limits";

/** Step 4 of TENANT_MIGRATIONS as it shipped: never edit it; append a step there instead. */
export const DEPLOYMENT_SCHEMA = `
CREATE TABLE IF NOT EXISTS deployments (
  server TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
  source TEXT NOT NULL,
  manifest TEXT NOT NULL,
  calls INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (server, version)
);
CREATE TRIGGER IF NOT EXISTS deployments_are_immutable
  BEFORE UPDATE OF server, version, hash, size, created_at, source, manifest ON deployments
  BEGIN SELECT RAISE(ABORT, 'a deployment version is immutable'); END;
CREATE TABLE IF NOT EXISTS deployment_errors (
  seq INTEGER PRIMARY KEY,
  server TEXT NOT NULL,
  version INTEGER NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployment_errors_by_server ON deployment_errors (server, seq);
CREATE TABLE IF NOT EXISTS sandbox_egress (
  server TEXT PRIMARY KEY,
  allow TEXT NOT NULL,
  revision INTEGER NOT NULL
);
`;

/** Versions kept per server; the oldest inactive ones go first. */
export const KEPT_VERSIONS = 20;

export type DeploymentStatus = "active" | "inactive";
export type DeploymentKind = "module" | "sdk";

export interface DeploymentInfo {
  version: number;
  kind: DeploymentKind;
  hash: string;
  size: number;
  createdAt: number;
  status: DeploymentStatus;
  calls: number;
  errors: number;
}

/**
 * What a call site needs to serve the active version (no source: it is fetched only
 * to load an isolate). Manifests cross RPC as JSON text: they hold arbitrary JSON
 * Schemas, which RPC's types cannot describe.
 */
export interface ActiveDeployment {
  server: string;
  /** `module` (the platform's module format) or `sdk` (an SDK server bundle, sandbox/sdk/). */
  kind: DeploymentKind;
  version: number;
  hash: string;
  manifestJson: string;
  egress: string[];
  egressRevision: number;
}

export interface DeploymentError {
  version: number;
  at: number;
  kind: string;
  message: string;
}

export interface CallReport {
  calls: number;
  errors: number;
  recent: DeploymentError[];
}

export interface ServerView {
  active: DeploymentInfo | null;
  console: ConsoleLine[];
  versions: number;
  lastErrors: DeploymentError[];
  egress: string[];
}

export interface NewBundle {
  kind?: DeploymentKind;
  hash: string;
  size: number;
  /** The module (kind `module`), or the SDK bundle's JSON text (kind `sdk`, stored in chunks). */
  source: string;
  manifestJson: string;
}

export interface ConsoleLine {
  version: number;
  at: number;
  level: string;
  line: string;
}

/** What the deployment store needs from the tenant object that hosts it. */
export interface DeploymentHost {
  sql: SqlStorage;
  enableServer(server: string): void;
  /** When the oldest live session of `server` was created; null when none is live. */
  oldestLiveSession(server: string): number | null;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
}

type Row = {
  version: number;
  kind: DeploymentKind;
  hash: string;
  size: number;
  created_at: number;
  status: DeploymentStatus;
  calls: number;
  errors: number;
};

const INFO_COLUMNS = "version, kind, hash, size, created_at, status, calls, errors";
const infoOf = (r: Row): DeploymentInfo => ({
  version: r.version,
  kind: r.kind,
  hash: r.hash,
  size: r.size,
  createdAt: r.created_at,
  status: r.status,
  calls: r.calls,
  errors: r.errors,
});

export class DeploymentStore {
  readonly #host: DeploymentHost;

  constructor(host: DeploymentHost) {
    this.#host = host;
  }

  get #sql() {
    return this.#host.sql;
  }

  /**
   * Stores a checked bundle as the next version and makes it active. Deploying the
   * bytes the server already runs is a no-op that answers the running version.
   */
  async deploy(server: string, bundle: NewBundle): Promise<{ info: DeploymentInfo; created: boolean } | { quota: { limit: number; used: number } }> {
    const running = this.#rows(`SELECT ${INFO_COLUMNS} FROM deployments WHERE server = ? AND status = 'active'`, server)[0];
    if (running?.hash === bundle.hash) return { info: infoOf(running), created: false };
    const kind = bundle.kind ?? "module";
    const stored = this.#sql.exec<{ b: number | null }>("SELECT sum(size) AS b FROM deployments").one().b ?? 0;
    if (stored + bundle.size > SANDBOX_LIMITS.tenantBundleBytes) {
      return { quota: { limit: SANDBOX_LIMITS.tenantBundleBytes, used: stored } };
    }
    const version = (this.#sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM deployments WHERE server = ?", server).one().v ?? 0) + 1;
    const now = Date.now();
    this.#sql.exec("UPDATE deployments SET status = 'inactive', retired_at = ? WHERE server = ? AND status = 'active'", now, server);
    this.#sql.exec(
      "INSERT INTO deployments (server, version, kind, hash, size, created_at, status, source, manifest) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)",
      server,
      version,
      kind,
      bundle.hash,
      bundle.size,
      now,
      kind === "module" ? bundle.source : "",
      bundle.manifestJson,
    );
    if (kind === "sdk") {
      const text = bundle.source;
      for (let seq = 0, at = 0; at < text.length; seq++) {
        // A third of the chunk size in UTF-16 units (at most 3 UTF-8 bytes each), never splitting a surrogate pair.
        let end = Math.min(text.length, at + Math.floor(SANDBOX_LIMITS.chunkBytes / 3));
        const last = text.charCodeAt(end - 1);
        if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
        this.#sql.exec("INSERT INTO deployment_chunks (server, version, seq, data) VALUES (?, ?, ?, ?)", server, version, seq, text.slice(at, end));
        at = end;
      }
    }
    this.#prune(server, now);
    this.#host.enableServer(server);
    await this.#host.audit("admin", "deployment.created", server, { version, kind, hash: bundle.hash, size: bundle.size });
    return { info: this.#info(server, version)!, created: true };
  }

  async activate(server: string, version: number): Promise<DeploymentInfo | null> {
    if (!this.#info(server, version)) return null;
    this.#sql.exec(
      `UPDATE deployments SET
         retired_at = CASE WHEN version = ? THEN NULL WHEN status = 'active' THEN ? ELSE retired_at END,
         status = CASE WHEN version = ? THEN 'active' ELSE 'inactive' END
       WHERE server = ?`,
      version,
      Date.now(),
      version,
      server,
    );
    await this.#host.audit("admin", "deployment.activated", server, { version });
    return this.#info(server, version);
  }

  list(server: string): DeploymentInfo[] {
    return this.#rows(`SELECT ${INFO_COLUMNS} FROM deployments WHERE server = ? ORDER BY version DESC`, server).map(infoOf);
  }

  /** One version with its manifest (and its source only when asked). */
  get(server: string, version: number, withSource: boolean): (DeploymentInfo & { manifestJson: string; source?: string }) | null {
    const row = this.#sql
      .exec<Row & { manifest: string; source: string }>(
        `SELECT ${INFO_COLUMNS}, manifest${withSource ? ", source" : ", '' AS source"} FROM deployments WHERE server = ? AND version = ?`,
        server,
        version,
      )
      .toArray()[0];
    if (!row) return null;
    const source = !withSource ? undefined : row.kind === "sdk" ? this.#chunks(server, version) : row.source;
    return { ...infoOf(row), manifestJson: row.manifest, ...(source === undefined ? {} : { source }) };
  }

  #chunks(server: string, version: number): string {
    return this.#sql
      .exec<{ data: string }>("SELECT data FROM deployment_chunks WHERE server = ? AND version = ? ORDER BY seq", server, version)
      .toArray()
      .map((r) => r.data)
      .join("");
  }

  /** Keeps a server's newest console lines (already redacted), at most `keptConsoleLines`. */
  console(server: string, lines: ConsoleLine[]): void {
    for (const l of lines.slice(-SANDBOX_LIMITS.keptConsoleLines)) {
      this.#sql.exec(
        "INSERT INTO server_console (server, version, at, level, line) VALUES (?, ?, ?, ?, ?)",
        server,
        Math.trunc(l.version),
        Math.trunc(l.at),
        String(l.level).slice(0, 16),
        String(l.line).slice(0, SANDBOX_LIMITS.maxLogChars),
      );
    }
    this.#sql.exec(
      "DELETE FROM server_console WHERE server = ? AND seq NOT IN (SELECT seq FROM server_console WHERE server = ? ORDER BY seq DESC LIMIT ?)",
      server,
      server,
      SANDBOX_LIMITS.keptConsoleLines,
    );
  }

  consoleLines(server: string): ConsoleLine[] {
    return this.#sql
      .exec<{ version: number; at: number; level: string; line: string }>("SELECT version, at, level, line FROM server_console WHERE server = ? ORDER BY seq DESC LIMIT ?", server, SANDBOX_LIMITS.keptConsoleLines)
      .toArray()
      .reverse();
  }

  active(server: string): ActiveDeployment | null {
    const row = this.#sql
      .exec<{ version: number; kind: DeploymentKind; hash: string; manifest: string }>(
        "SELECT version, kind, hash, manifest FROM deployments WHERE server = ? AND status = 'active'",
        server,
      )
      .toArray()[0];
    if (!row) return null;
    const egress = this.#egress(server);
    return { server, kind: row.kind, version: row.version, hash: row.hash, manifestJson: row.manifest, egress: egress.allow, egressRevision: egress.revision };
  }

  hasDeployments(server: string): boolean {
    return this.#sql.exec("SELECT 1 FROM deployments WHERE server = ? LIMIT 1", server).toArray().length > 0;
  }

  async setEgress(server: string, allow: string[]): Promise<{ allow: string[]; revision: number }> {
    const revision = this.#egress(server).revision + 1;
    this.#sql.exec("INSERT OR REPLACE INTO sandbox_egress (server, allow, revision) VALUES (?, ?, ?)", server, JSON.stringify(allow), revision);
    await this.#host.audit("admin", "egress.changed", server, { allow });
    return { allow, revision };
  }

  /**
   * Every version (with its bundle chunks), recorded failure and console line of the
   * server goes (purging a server), and its
   * allow-list is emptied. The egress row stays with a raised revision, so a version
   * deployed again later (numbered from 1 again) never meets an isolate of the old one.
   */
  purge(server: string): number {
    const removed = this.#sql.exec("DELETE FROM deployments WHERE server = ?", server).rowsWritten;
    this.#sql.exec("DELETE FROM deployment_chunks WHERE server = ?", server);
    this.#sql.exec("DELETE FROM deployment_errors WHERE server = ?", server);
    this.#sql.exec("DELETE FROM server_console WHERE server = ?", server);
    const egress = this.#egress(server);
    this.#sql.exec("INSERT OR REPLACE INTO sandbox_egress (server, allow, revision) VALUES (?, '[]', ?)", server, egress.revision + 1);
    return removed;
  }

  egress(server: string): string[] {
    return this.#egress(server).allow;
  }

  /** Adds what an isolate counted since its last report; keeps the newest errors only. */
  report(server: string, version: number, report: CallReport): void {
    this.#sql.exec(
      "UPDATE deployments SET calls = calls + ?, errors = errors + ? WHERE server = ? AND version = ?",
      Math.max(0, Math.trunc(report.calls)),
      Math.max(0, Math.trunc(report.errors)),
      server,
      version,
    );
    for (const e of report.recent.slice(-SANDBOX_LIMITS.keptErrors)) {
      this.#sql.exec(
        "INSERT INTO deployment_errors (server, version, at, kind, message) VALUES (?, ?, ?, ?, ?)",
        server,
        e.version,
        e.at,
        String(e.kind).slice(0, 40),
        String(e.message).slice(0, SANDBOX_LIMITS.maxLogChars),
      );
    }
    this.#sql.exec(
      `DELETE FROM deployment_errors WHERE server = ? AND seq NOT IN
         (SELECT seq FROM deployment_errors WHERE server = ? ORDER BY seq DESC LIMIT ?)`,
      server,
      server,
      SANDBOX_LIMITS.keptErrors,
    );
  }

  view(server: string): ServerView | null {
    const versions = this.list(server);
    if (versions.length === 0) return null;
    const active = versions.find((v) => v.status === "active") ?? null;
    const lastErrors = this.#sql
      .exec<{ version: number; at: number; kind: string; message: string }>(
        "SELECT version, at, kind, message FROM deployment_errors WHERE server = ? ORDER BY seq DESC LIMIT ?",
        server,
        SANDBOX_LIMITS.keptErrors,
      )
      .toArray();
    return {
      active,
      versions: versions.length,
      lastErrors,
      console: this.consoleLines(server),
      egress: this.#egress(server).allow,
    };
  }

  /**
   * Drops inactive versions beyond the newest `KEPT_VERSIONS`, except any a live
   * session may still run (see the module comment). A version retired before
   * `retired_at` existed has no time: it stays while any session of the server lives.
   */
  #prune(server: string, now: number): void {
    const oldest = this.#host.oldestLiveSession(server);
    const cutoff = Math.min(now, oldest ?? now) - ACTIVE_DEPLOYMENT_CACHE_MS;
    this.#sql.exec(
      `DELETE FROM deployments WHERE server = ? AND status = 'inactive' AND coalesce(retired_at, ?) < ? AND version NOT IN
         (SELECT version FROM deployments WHERE server = ? ORDER BY version DESC LIMIT ?)`,
      server,
      oldest === null ? 0 : Number.MAX_SAFE_INTEGER,
      cutoff,
      server,
      KEPT_VERSIONS,
    );
    this.#sql.exec("DELETE FROM deployment_chunks WHERE server = ? AND version NOT IN (SELECT version FROM deployments WHERE server = ?)", server, server);
  }

  #egress(server: string): { allow: string[]; revision: number } {
    const row = this.#sql.exec<{ allow: string; revision: number }>("SELECT allow, revision FROM sandbox_egress WHERE server = ?", server).toArray()[0];
    return row ? { allow: JSON.parse(row.allow) as string[], revision: row.revision } : { allow: [], revision: 0 };
  }

  #info(server: string, version: number): DeploymentInfo | null {
    const row = this.#rows(`SELECT ${INFO_COLUMNS} FROM deployments WHERE server = ? AND version = ?`, server, version)[0];
    return row ? infoOf(row) : null;
  }

  #rows(query: string, ...bindings: unknown[]): Row[] {
    return this.#sql.exec<Row>(query, ...bindings).toArray();
  }
}
