/**
 * The TenantDO's schema, as one numbered migration list (runner: storage/migrations.ts;
 * tables documented in docs/storage-schema.md).
 *
 * HOW TO ADD A STEP: append one entry at the END of `TENANT_MIGRATIONS.steps` (a SQL
 * string, or `(sql) => { ... }` for DDL that needs a check). Never edit, reorder or
 * remove a step that has shipped: objects already at that schema version will not run
 * it again. A step runs once, inside the same transaction as the new schema version,
 * on the schema every earlier step produced, so plain `CREATE TABLE` / `ALTER TABLE`
 * is right after the legacy steps. Update docs/storage-schema.md in the same commit.
 *
 * Steps 1..TENANT_LEGACY_STEPS replay the schema's history before the list existed.
 * Tenants created then have schema version 0 and any one of those shapes, so those
 * steps are idempotent (`IF NOT EXISTS`, `addColumn`).
 */
import { GRANT_SCHEMA } from "./oauth/grant-store";
import { DEPLOYMENT_SCHEMA } from "./sandbox/deployment-store";
import { SECRET_SCHEMA } from "./tenant/secrets";
import { SERVER_FILES_SCHEMA } from "./tenant/server-files";
import { UPSTREAM_HEALTH_SCHEMA } from "./tenant/upstream-health";
import { METRICS_SCHEMA } from "./tenant/metrics-rollup";
import { addColumn, type MigrationList } from "./storage/migrations";

/** Steps that tenants created before the list existed may already (partly) have. */
export const TENANT_LEGACY_STEPS = 5;

export const TENANT_MIGRATIONS: MigrationList = {
  name: "TenantDO",
  steps: [
    // 1 (e28d9c2): keys, enabled servers, the session index, tool data.
    `
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
  protocol_version TEXT NOT NULL,
  client_info TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tool_data (
  server TEXT NOT NULL,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (server, collection, id)
);
`,
    // 2 (ab22f3e): the hash-chained audit log; per-session counters in the index.
    (sql) => {
      sql.exec(`
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
`);
      addColumn(sql, "sessions", "requests", "INTEGER NOT NULL DEFAULT 0");
      addColumn(sql, "sessions", "errors", "INTEGER NOT NULL DEFAULT 0");
      addColumn(sql, "sessions", "event_bytes", "INTEGER NOT NULL DEFAULT 0");
    },
    // 3 (cf79c5e): OAuth grants, codes and tokens.
    GRANT_SCHEMA,
    // 4 (d3e49c3): deployed servers.
    DEPLOYMENT_SCHEMA,
    // 5 (5517c53): OAuth sessions name their grant.
    (sql) => addColumn(sql, "sessions", "grant_id", "TEXT"),
    // --- end of the legacy steps: from here on each step runs exactly once. ---
    // 6: audit retention (tenant/audit-retention.ts). Checkpoints are append-only and
    // must name a stored row; the retention marks only advance, and only to a
    // checkpoint; a row of `audit` may be deleted only at or below `droppable_through`,
    // which only the export-then-drop flow raises. The INSERT triggers close the
    // REPLACE hole: `INSERT OR REPLACE` deletes the row it conflicts with without
    // firing DELETE triggers, so an insert must land exactly after the tail (audit) or
    // into an empty table (audit_retention).
    `
CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TRIGGER audit_checkpoint_names_a_row BEFORE INSERT ON audit_checkpoints
  WHEN NOT EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq AND hash = NEW.hash)
  BEGIN SELECT RAISE(ABORT, 'an audit checkpoint must name a stored entry and its hash'); END;
CREATE TRIGGER audit_checkpoints_are_append_only_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_are_append_only_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TABLE audit_retention (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  exported_through INTEGER NOT NULL,
  droppable_through INTEGER NOT NULL
);
INSERT INTO audit_retention (id, exported_through, droppable_through) VALUES (1, 0, 0);
CREATE TRIGGER audit_retention_only_advances BEFORE UPDATE ON audit_retention
  WHEN NEW.id <> OLD.id
    OR NEW.exported_through < OLD.exported_through
    OR NEW.droppable_through < OLD.droppable_through
    OR NEW.droppable_through > NEW.exported_through
    OR (NEW.exported_through <> OLD.exported_through AND NEW.exported_through NOT IN (SELECT seq FROM audit_checkpoints))
    OR (NEW.droppable_through <> OLD.droppable_through AND NEW.droppable_through NOT IN (SELECT seq FROM audit_checkpoints))
  BEGIN SELECT RAISE(ABORT, 'audit retention marks only advance, to an exported checkpoint'); END;
CREATE TRIGGER audit_retention_is_kept BEFORE DELETE ON audit_retention
  BEGIN SELECT RAISE(ABORT, 'audit retention state cannot be deleted'); END;
DROP TRIGGER audit_is_append_only_delete;
CREATE TRIGGER audit_drops_only_exported_segment BEFORE DELETE ON audit
  WHEN OLD.seq > (SELECT droppable_through FROM audit_retention WHERE id = 1)
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only: only an exported segment ending at a checkpoint can be dropped'); END;
CREATE TRIGGER audit_appends_only_at_the_tail BEFORE INSERT ON audit
  WHEN NEW.seq <> coalesce((SELECT max(seq) FROM audit), (SELECT droppable_through FROM audit_retention WHERE id = 1)) + 1
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only: an entry must follow the last one'); END;
CREATE TRIGGER audit_retention_is_one_row BEFORE INSERT ON audit_retention
  WHEN EXISTS (SELECT 1 FROM audit_retention)
  BEGIN SELECT RAISE(ABORT, 'audit retention state cannot be replaced'); END;
`,
    // 7: clients that redeemed a code here, the only ones /authorize redirects errors to (oauth/grant-store.ts).
    `
CREATE TABLE oauth_trusted_clients (
  client_id TEXT PRIMARY KEY,
  trusted_at INTEGER NOT NULL
);
`,
    // 8: when a deployed version stopped being active (NULL while active, and for versions
    // retired before the column existed), so pruning keeps what a live session may run.
    "ALTER TABLE deployments ADD COLUMN retired_at INTEGER",
    // 9: the seq of the last counter report of each session applied (session-index.ts), so a retried report adds nothing.
    "ALTER TABLE sessions ADD COLUMN report_seq INTEGER NOT NULL DEFAULT 0",
    // 10: tenant admin keys (tenant/admin-keys.ts): digests only, looked up by digest.
    `
CREATE TABLE admin_keys (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
`,
    // 11: deployed servers' write-only secrets, sealed with SMCP_SECRETS_KEY, and the revision of each server's set (tenant/secrets.ts).
    SECRET_SCHEMA,
    // 12: what an admin sees of a grant (oauth/grant-store.ts `listGrants`): the client's name at
    // approval, the hour it was last used (written at most once an hour), and when an admin
    // revoked it (the row stays, without tokens or codes, until it expires, so a repeated
    // revocation re-drives the end of its sessions instead of answering 404).
    `
ALTER TABLE oauth_grants ADD COLUMN client_name TEXT;
ALTER TABLE oauth_grants ADD COLUMN last_used_at INTEGER;
ALTER TABLE oauth_grants ADD COLUMN revoked_at INTEGER;
`,
    // 13: deployed SDK servers (sandbox/deployment-store.ts): a version's kind, its bundle in
    // immutable chunks (a bundle is up to 10 MiB; a SQLite value holds about 2 MB), and the
    // recent console lines of each server for its admin view (secrets redacted before storing).
    `
ALTER TABLE deployments ADD COLUMN kind TEXT NOT NULL DEFAULT 'module';
CREATE TABLE deployment_chunks (
  server TEXT NOT NULL,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (server, version, seq)
);
CREATE TRIGGER deployment_chunks_are_immutable
  BEFORE UPDATE ON deployment_chunks
  BEGIN SELECT RAISE(ABORT, 'a deployment version is immutable'); END;
CREATE TABLE server_console (
  seq INTEGER PRIMARY KEY,
  server TEXT NOT NULL,
  version INTEGER NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX server_console_by_server ON server_console (server, seq);
`,
    // 14: deployed servers' persistent files (tenant/server-files.ts): entries, and bytes in chunks.
    SERVER_FILES_SCHEMA,
    // 15: the health of upstream servers (tenant/upstream-health.ts): one row per server that fronts one.
    UPSTREAM_HEALTH_SCHEMA,
    // 16: single sign-on (sso/, oauth/grant-store.ts): a grant approved by a person who signed in
    // carries their subject and verified email and the time its sign-in expires whatever the
    // refreshes; the nonces of accepted sign-ins are kept until their sign-in state would have
    // expired, so an ID token cannot be used twice (tenant/sso-nonces.ts, at most 10,000 rows).
    `
ALTER TABLE oauth_grants ADD COLUMN subject TEXT;
ALTER TABLE oauth_grants ADD COLUMN email TEXT;
ALTER TABLE oauth_grants ADD COLUMN max_expires_at INTEGER;
CREATE INDEX oauth_grants_by_subject ON oauth_grants (subject) WHERE subject IS NOT NULL;
CREATE TABLE sso_nonces (
  hash TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sso_nonces_by_expiry ON sso_nonces (expires_at);
`,
    // 17: metrics rollups (tenant/metrics-rollup.ts): requests, errors by kind and latency
    // buckets per minute and series (server, method, tool), and the same as running totals.
    METRICS_SCHEMA,
    // 18: report batches of the sessions' report shards (tenant/report-shard-do.ts): the seq of
    // the last batch applied per shard, so a flush re-driven after a lost answer is applied once.
    `
CREATE TABLE report_batches (
  shard INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  applied_at INTEGER NOT NULL
);
`,
    // 19: the session index by expiry: every admission sweeps the rows past theirs
    // (tenant/session-objects.ts), which without it read and sorted every session's row.
    "CREATE INDEX sessions_by_expiry ON sessions (expires_at);",
    // 20: each session row keeps the alarm totals of its last report applied: the sessions'
    // alarm runs reach the tenant with their reports (through the report shards), and the
    // tenant adds what each grew by, instead of one call per alarm run.
    `
ALTER TABLE sessions ADD COLUMN alarm_runs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN alarm_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN alarm_lag_ms_total INTEGER NOT NULL DEFAULT 0;
`,
    // Append new steps here (see HOW TO ADD A STEP above).
  ],
};
