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
 * Steps 1..SESSION_LEGACY_STEPS replay the history before the list existed and are
 * idempotent, because sessions created then have schema version 0 and any of those shapes.
 */
import { EVENT_LOG_SCHEMA } from "@smcp/runtime";
import { REQUEST_LOG_SCHEMA } from "./mcp/request-log";
import { dropColumn, type MigrationList } from "./storage/migrations";

export const SESSION_LEGACY_STEPS = 3;

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
    // Append new steps here (see HOW TO ADD A STEP above).
  ],
};
