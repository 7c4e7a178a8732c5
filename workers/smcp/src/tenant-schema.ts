/** Brings a tenant created by an earlier version up to `TENANT_SCHEMA` (columns added since). */
export function upgradeSchema(sql: SqlStorage): void {
  const columns = new Set(sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('sessions')").toArray().map((c) => c.name));
  if (!columns.has("grant_id")) sql.exec("ALTER TABLE sessions ADD COLUMN grant_id TEXT");
  // session hardening (issue 10): the seq of the last session report applied.
  if (!columns.has("report_seq")) sql.exec("ALTER TABLE sessions ADD COLUMN report_seq INTEGER NOT NULL DEFAULT 0");
}

/** The tables of a tenant's Durable Object; documented in docs/storage-schema.md. */
export const TENANT_SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS servers (
  name TEXT PRIMARY KEY,
  enabled_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  server TEXT NOT NULL,
  key_id TEXT,
  grant_id TEXT,
  protocol_version TEXT NOT NULL,
  client_info TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  event_bytes INTEGER NOT NULL DEFAULT 0,
  report_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_is_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_is_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS tool_data (
  server TEXT NOT NULL,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (server, collection, id)
);
`;
