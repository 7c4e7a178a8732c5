/**
 * The schema of each Durable Object class as ONE numbered list of steps, applied by a
 * single runner that records the step reached as the schema version.
 *
 * The version lives in the object's synchronous KV (`schemaVersion`), not in
 * `PRAGMA user_version`: workerd refuses that pragma (SQLITE_AUTH). A KV read is an
 * in-memory lookup that writes nothing, and a KV write commits in the same
 * transaction as the SQL, so the version and the schema cannot disagree.
 *
 * Why a list and not `CREATE TABLE IF NOT EXISTS` on every call: DDL on every call
 * costs every request a schema check and hides which shape an old object has. The
 * runner reads the version and applies only the pending steps, all in one transaction
 * together with the new version, so an object is never left half-upgraded.
 *
 * Objects created before this runner existed have no version (0) and any schema
 * that ever shipped: the steps up to each class's `LEGACY_STEPS` are therefore
 * written to be idempotent (`IF NOT EXISTS`, `addColumn`), so they bring every
 * historical shape to the same result. Steps after that run exactly once on a known
 * shape and may be plain DDL.
 *
 * The runner itself writes nothing when no step is pending, so calling it on an
 * object that is current is free; callers still decide *whether* an object should
 * hold a schema at all (an unknown tenant or session must stay without storage).
 */

/** One step: SQL text (may hold several statements) or a function for conditional DDL (or a move of data into KV). */
export type MigrationStep = string | ((sql: SqlStorage, storage: DurableObjectStorage) => void);

export interface MigrationList {
  /** For messages only. */
  name: string;
  steps: readonly MigrationStep[];
  /**
   * The schema all the steps produce, for an object that holds nothing yet
   * (`createSchema`): pages that a step frees (a dropped table or index) stay in the
   * database file of an object that ran it, so a new object gets the final shape
   * directly instead of every step. A test keeps the two equal.
   */
  fresh?: string;
}

export interface MigrationOutcome {
  from: number;
  to: number;
}

/** The KV key of the schema version (the number of steps applied). */
export const SCHEMA_VERSION_KEY = "schemaVersion";

export function schemaVersion(storage: DurableObjectStorage): number {
  return storage.kv.get<number>(SCHEMA_VERSION_KEY) ?? 0;
}

/**
 * Applies the steps after the stored version, in one transaction. An object
 * whose version is newer than the list (a rollback of the code) is left untouched:
 * downgrades are not supported and running old code over a newer schema is the
 * operator's choice, not something to "repair".
 */
export function migrate(storage: DurableObjectStorage, list: MigrationList): MigrationOutcome {
  const from = schemaVersion(storage);
  const to = list.steps.length;
  if (from >= to) return { from, to: from };
  storage.transactionSync(() => {
    for (let i = from; i < to; i++) {
      const step = list.steps[i]!;
      if (typeof step === "string") storage.sql.exec(step);
      else step(storage.sql, storage);
    }
    storage.kv.put(SCHEMA_VERSION_KEY, to);
  });
  return { from, to };
}

/** `ALTER TABLE ... ADD COLUMN` unless the column exists: for steps legacy objects may already have. */
export function addColumn(sql: SqlStorage, table: string, column: string, declaration: string): void {
  const exists = sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length > 0;
  if (!exists) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${declaration}`);
}

/** `ALTER TABLE ... DROP COLUMN` if the column exists. */
export function dropColumn(sql: SqlStorage, table: string, column: string): void {
  const exists = sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length > 0;
  if (exists) sql.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
}

/**
 * The schema of an object the caller knows holds nothing yet (a session being
 * admitted): `list.fresh` and the list's full version in one transaction. An object
 * that has a version already is migrated as usual.
 */
export function createSchema(storage: DurableObjectStorage, list: MigrationList): MigrationOutcome {
  if (!list.fresh || schemaVersion(storage) > 0) return migrate(storage, list);
  const to = list.steps.length;
  storage.transactionSync(() => {
    storage.sql.exec(list.fresh!);
    storage.kv.put(SCHEMA_VERSION_KEY, to);
  });
  return { from: 0, to };
}
