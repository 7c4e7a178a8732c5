/**
 * Tool data of the tenant's server modules (table `tool_data`), scoped by server and
 * collection, with the tenant's byte quota. The bytes held are kept as a running
 * total in KV (computed once if missing), so a write checks the quota without
 * scanning the table.
 */
import type { StoredRecord } from "@smcp/servers";

const BYTES_KEY = "toolDataBytes";
const encoder = new TextEncoder();

export type PutOutcome = { ok: true } | { ok: false; reason: "quota"; limit: number; used: number };

export class ToolData {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get #sql() {
    return this.#storage.sql;
  }

  put(server: string, collection: string, id: string, valueJson: string, limit: number): PutOutcome {
    const old =
      this.#sql
        .exec<{ n: number }>("SELECT length(CAST(value AS BLOB)) AS n FROM tool_data WHERE server = ? AND collection = ? AND id = ?", server, collection, id)
        .toArray()[0]?.n ?? 0;
    const used = this.bytes();
    const after = used - old + encoder.encode(valueJson).byteLength;
    if (after > limit) return { ok: false, reason: "quota", limit, used };
    this.#storage.kv.put(BYTES_KEY, after);
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
        "DELETE FROM tool_data WHERE server = ? AND collection = ? AND id = ? RETURNING length(CAST(value AS BLOB)) AS n",
        server,
        collection,
        id,
      )
      .toArray()[0];
    if (!row) return false;
    this.#storage.kv.put(BYTES_KEY, Math.max(0, this.bytes() - row.n));
    return true;
  }

  bytes(): number {
    let used = this.#storage.kv.get<number>(BYTES_KEY);
    if (used === undefined) {
      used = this.#sql.exec<{ n: number | null }>("SELECT sum(length(CAST(value AS BLOB))) AS n FROM tool_data").one().n ?? 0;
      this.#storage.kv.put(BYTES_KEY, used);
    }
    return used;
  }

  #records(query: string, ...bindings: unknown[]): StoredRecord[] {
    return this.#sql
      .exec<{ id: string; value: string; updated_at: number }>(query, ...bindings)
      .toArray()
      .map((r) => ({ id: r.id, value: JSON.parse(r.value), updatedAt: r.updated_at }));
  }
}

export const clampLimit = (limit: number) => Math.max(1, Math.min(500, Math.trunc(limit) || 1));
