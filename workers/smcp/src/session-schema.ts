/**
 * The SessionDO's schema, as one numbered migration list (runner: storage/migrations.ts;
 * tables documented in docs/storage-schema.md).
 *
 * HOW TO ADD A STEP: append one entry at the END of `SESSION_MIGRATIONS.steps` (a SQL
 * string, or `(sql) => { ... }` for DDL that needs a check). Never edit, reorder or
 * remove a step that has shipped. A step runs once, in the same transaction as the new
 * schema version, on the schema the earlier steps produced. Update
 * docs/storage-schema.md in the same commit.
 *
 * A new session gets `fresh` (the schema the steps produce) instead of the steps
 * (storage/migrations.ts `createSchema`): a step that appends DDL updates `fresh` too;
 * test/migrations.test.ts compares the two.
 *
 * Steps 1..SESSION_LEGACY_STEPS replay the history before the list existed and are
 * idempotent, because sessions created then have schema version 0 and any of those shapes.
 */
import { EVENT_LOG_SCHEMA, EVENT_LOG_TABLE } from "@smcp/runtime";
import { REQUEST_LOG_SCHEMA, REQUEST_LOG_TABLE } from "./mcp/request-log";
import { dropColumn, type MigrationList } from "./storage/migrations";

export const SESSION_LEGACY_STEPS = 3;

/** KV key of the event log's pruned mark (`PrunedMark`): ids at or below it answer "pruned". */
export const EVENT_LOG_PRUNED_KEY = "eventLogPrunedThrough";

export const SESSION_MIGRATIONS: MigrationList = {
  name: "SessionDO",
  steps: [
    // 1 (e28d9c2): the SSE event log (its e28d9c2 shape also had event_log_state.last_seq).
    EVENT_LOG_SCHEMA,
    // 2 (ab22f3e): the request log.
    REQUEST_LOG_SCHEMA,
    // 3 (4c705b8): the counter is max(seq, pruned_through); last_seq is no longer kept.
    (sql) => dropColumn(sql, "event_log_state", "last_seq"),
    // --- end of the legacy steps: from here on each step runs exactly once. ---
    // 4: fewer pages per session: the pruned mark moves to KV (event_log_state goes), no
    // stream index on events, and the request log without AUTOINCREMENT.
    (sql, storage) => {
      const row = sql.exec<{ pruned_through: number }>("SELECT pruned_through FROM event_log_state WHERE id = 1").toArray()[0];
      if (row && row.pruned_through > 0) storage.kv.put(EVENT_LOG_PRUNED_KEY, row.pruned_through);
      sql.exec(`
        DROP TABLE event_log_state;
        DROP INDEX events_by_stream;
        CREATE TABLE requests_v4 (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, rpc_id TEXT, method TEXT NOT NULL, tool TEXT, status TEXT NOT NULL, duration_ms INTEGER NOT NULL, error TEXT);
        INSERT INTO requests_v4 SELECT seq, at, rpc_id, method, tool, status, duration_ms, error FROM requests;
        DROP TABLE requests;
        ALTER TABLE requests_v4 RENAME TO requests;
      `);
    },
    // Append new steps here (see HOW TO ADD A STEP above), and bring `fresh` to the same shape.
  ],
  fresh: EVENT_LOG_TABLE + REQUEST_LOG_TABLE,
};
