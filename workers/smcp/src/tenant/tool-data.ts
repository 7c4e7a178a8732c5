/**
 * Tool data of the tenant's server modules (table `tool_data`), scoped by server and
 * collection, under the tenant's quota: bytes stored and rows.
 *
 * What counts is what SQLite holds: a row's bytes are its server, collection and id
 * (the primary key, stored twice: in the table and in its index) plus its value, plus
 * `ROW_OVERHEAD_BYTES` for the row header, `updated_at` and page slack. The totals are
 * kept in KV (`toolDataUsage`: bytes and rows), so a write checks the quota without
 * scanning the table; when the key is missing they are computed once from the table.
 * Tenants from before this rule carry `toolDataBytes` (values only); it is dropped
 * when `toolDataUsage` is first computed, so their total is recounted under the rule.
 * Deployed servers' files (tenant/server-files.ts) count toward the same totals.
 */
import { utf8Length } from "@smcp/runtime";
import type { StoredRecord } from "@smcp/servers";
import { storedFileUsage } from "./server-files";

const USAGE_KEY = "toolDataUsage";
/** The running total of tenants created before keys and rows counted (value bytes only). */
const LEGACY_BYTES_KEY = "toolDataBytes";
/** Estimated bytes per row beyond its keys and value: SQLite's row header and cell pointer, `updated_at`, the index entry's header, page slack. */
export const ROW_OVERHEAD_BYTES = 64;


/** The bytes one row costs under the quota. */
export const rowBytes = (server: string, collection: string, id: string, valueJson: string) =>
  2 * (utf8Length(server) + utf8Length(collection) + utf8Length(id)) + utf8Length(valueJson) + ROW_OVERHEAD_BYTES;

/** The same in SQL, over the stored columns. */
const ROW_BYTES_SQL = `2 * (length(CAST(server AS BLOB)) + length(CAST(collection AS BLOB)) + length(CAST(id AS BLOB))) + length(CAST(value AS BLOB)) + ${ROW_OVERHEAD_BYTES}`;

export interface ToolDataUsage {
  bytes: number;
  rows: number;
}

export interface ToolDataLimits {
  bytes: number;
  rows: number;
}

export type PutOutcome =
  | { ok: true }
  | { ok: false; reason: "quota"; limit: number; used: number }
  | { ok: false; reason: "rows"; limit: number; used: number };

export class ToolData {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get #sql() {
    return this.#storage.sql;
  }

  put(server: string, collection: string, id: string, valueJson: string, limits: ToolDataLimits): PutOutcome {
    const added = rowBytes(server, collection, id, valueJson);
    const usage = this.usage();
    // A new id within the quota (add_note's every write) takes one statement; a replace, or a write at the limit, reads the old row first.
    if (usage.rows + 1 <= limits.rows && usage.bytes + added <= limits.bytes) {
      const inserted = this.#sql.exec(
        "INSERT INTO tool_data (server, collection, id, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (server, collection, id) DO NOTHING",
        server,
        collection,
        id,
        valueJson,
        Date.now(),
      ).rowsWritten;
      if (inserted > 0) {
        this.#storage.kv.put(USAGE_KEY, { bytes: usage.bytes + added, rows: usage.rows + 1 } satisfies ToolDataUsage);
        return { ok: true };
      }
    }
    return this.#replace(server, collection, id, valueJson, added, usage, limits);
  }

  #replace(server: string, collection: string, id: string, valueJson: string, added: number, usage: ToolDataUsage, limits: ToolDataLimits): PutOutcome {
    const old = this.#sql
      .exec<{ n: number }>(`SELECT ${ROW_BYTES_SQL} AS n FROM tool_data WHERE server = ? AND collection = ? AND id = ?`, server, collection, id)
      .toArray()[0]?.n;
    const rows = usage.rows + (old === undefined ? 1 : 0);
    if (rows > limits.rows) return { ok: false, reason: "rows", limit: limits.rows, used: usage.rows };
    const bytes = usage.bytes - (old ?? 0) + added;
    if (bytes > limits.bytes) return { ok: false, reason: "quota", limit: limits.bytes, used: usage.bytes };
    this.#storage.kv.put(USAGE_KEY, { bytes, rows } satisfies ToolDataUsage);
    this.#sql.exec(
      "INSERT OR REPLACE INTO tool_data (server, collection, id, value, updated_at) VALUES (?, ?, ?, ?, ?)",
      server,
      collection,
      id,
      valueJson,
      Date.now(),
    );
    return { ok: true };
  }

  get(server: string, collection: string, id: string): StoredRecord | null {
    return this.#records("SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND id = ?", server, collection, id)[0] ?? null;
  }

  list(server: string, collection: string, limit: number, after: string): StoredRecord[] {
    return this.#records(
      "SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND id > ? ORDER BY id LIMIT ?",
      server,
      collection,
      after,
      clampLimit(limit),
    );
  }

  /** Case-insensitive substring search over each value's JSON text. */
  search(server: string, collection: string, text: string, limit: number): StoredRecord[] {
    return this.#records(
      "SELECT id, value, updated_at FROM tool_data WHERE server = ? AND collection = ? AND instr(lower(value), lower(?)) > 0 ORDER BY id LIMIT ?",
      server,
      collection,
      text,
      clampLimit(limit),
    );
  }

  delete(server: string, collection: string, id: string): boolean {
    const row = this.#sql
      .exec<{ n: number }>(
        `DELETE FROM tool_data WHERE server = ? AND collection = ? AND id = ? RETURNING ${ROW_BYTES_SQL} AS n`,
        server,
        collection,
        id,
      )
      .toArray()[0];
    if (!row) return false;
    const usage = this.usage();
    this.#storage.kv.put(USAGE_KEY, { bytes: Math.max(0, usage.bytes - row.n), rows: Math.max(0, usage.rows - 1) } satisfies ToolDataUsage);
    return true;
  }

  /** Bytes and rows held, as the quota counts them. */
  usage(): ToolDataUsage {
    let usage = this.#storage.kv.get<ToolDataUsage>(USAGE_KEY);
    if (usage === undefined) {
      const total = this.#sql.exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${ROW_BYTES_SQL}) AS bytes FROM tool_data`).one();
      const files = storedFileUsage(this.#sql);
      usage = { bytes: (total.bytes ?? 0) + files.bytes, rows: total.rows + files.rows };
      this.#storage.kv.put(USAGE_KEY, usage);
      this.#storage.kv.delete(LEGACY_BYTES_KEY);
    }
    return usage;
  }

  /** Sets the totals (server-files.ts keeps them as it writes and removes files). */
  setUsage(usage: ToolDataUsage): void {
    this.#storage.kv.put(USAGE_KEY, usage);
  }

  /** Forgets the totals, so the next `usage()` counts them from the tables (after a server's data is purged). */
  recount(): void {
    this.#storage.kv.delete(USAGE_KEY);
  }

  #records(query: string, ...bindings: unknown[]): StoredRecord[] {
    return this.#sql
      .exec<{ id: string; value: string; updated_at: number }>(query, ...bindings)
      .toArray()
      .map((r) => ({ id: r.id, value: JSON.parse(r.value), updatedAt: r.updated_at }));
  }
}

export const clampLimit = (limit: number) => Math.max(1, Math.min(500, Math.trunc(limit) || 1));
