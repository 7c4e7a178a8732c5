/**
 * docs/storage-schema.md as data, and the comparison of it with what Durable Objects
 * really hold, so the doc is the single source the storage-schema test checks against.
 *
 * Pure (no `cloudflare:*` import): the workerd test feeds it snapshots read inside the
 * objects, and the unit tier tests the parser and the comparison in Node.
 *
 * The doc's format, per `## Name — …` section (Name: a Durable Object class, or a KV
 * namespace binding), is four kinds of Markdown table, told apart by their first header:
 *
 * - `| key | lifetime | value |`: one stored KV key per row. `lifetime` is `kept` (once
 *   written it stays until the object's storage is deleted), `transient` (present only
 *   in a state that ends, such as an open window) or `legacy` (only objects written by
 *   older code have it; nothing today writes it). A key may be a pattern:
 *   `client:{client_id}`. A value that starts with `{ … }` lists the record's fields,
 *   comma-separated; `name?` is a field that may be absent.
 * - `| table | primary key | columns | notes |`: one SQL table per row; `columns` is
 *   `name TYPE (optional words)` items, comma-separated (commas inside parentheses do
 *   not separate).
 * - `| index | table | columns |` and `| trigger | table | … |`: named indexes and triggers.
 *
 * SQLite's own objects (`sqlite_*`: AUTOINCREMENT's `sqlite_sequence`, the implicit
 * indexes of PRIMARY KEY and UNIQUE) and workerd's (`_cf_*`) are not part of the doc.
 */

export type Lifetime = "kept" | "transient" | "legacy";

export interface DocField {
  name: string;
  optional: boolean;
  /** Written `name: { … }`: the nested record's fields. */
  fields?: DocField[];
}

export interface DocKey {
  /** As written: `schemaVersion`, `client:{client_id}`. */
  name: string;
  pattern: RegExp;
  lifetime: Lifetime;
  /** The record's fields, or null when the value is not a documented record. */
  fields: DocField[] | null;
}

export interface DocColumn {
  name: string;
  type: string;
}

export interface DocTable {
  name: string;
  primaryKey: string[];
  columns: DocColumn[];
}

export interface DocIndex {
  name: string;
  table: string;
  columns: string[];
}

export interface DocTrigger {
  name: string;
  table: string;
}

export interface DocStore {
  name: string;
  kv: DocKey[];
  tables: DocTable[];
  indexes: DocIndex[];
  triggers: DocTrigger[];
}

const LIFETIMES: readonly Lifetime[] = ["kept", "transient", "legacy"];
const SQL_TYPES = new Set(["INTEGER", "TEXT", "REAL", "BLOB"]);

/** Expected headers of each kind of table, by first header. */
const HEADERS: Record<string, string[]> = {
  key: ["key", "lifetime", "value"],
  table: ["table", "primary key", "columns", "notes"],
  index: ["index", "table", "columns"],
  trigger: ["trigger", "table"],
};

export class StorageDocError extends Error {}

/** Every `## ` section of the doc that holds at least one of the four kinds of table, by its first word. */
export function parseStorageDoc(markdown: string): Map<string, DocStore> {
  const stores = new Map<string, DocStore>();
  let store: DocStore | null = null;
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^## (\S+)/.exec(line);
    if (heading) {
      const name = heading[1]!;
      if (stores.has(name)) throw new StorageDocError(`line ${i + 1}: a second section ${name}`);
      store = { name, kv: [], tables: [], indexes: [], triggers: [] };
      stores.set(name, store);
      continue;
    }
    if (!line.startsWith("|")) continue;
    // A table: header, separator, rows.
    const header = cells(line).map((c) => c.toLowerCase());
    const rows: { line: number; cells: string[] }[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.startsWith("|"); j++) rows.push({ line: j + 1, cells: cells(lines[j]!) });
    const kind = header[0]!;
    const expected = HEADERS[kind];
    if (expected) {
      if (!store) throw new StorageDocError(`line ${i + 1}: a ${kind} table outside a section`);
      if (expected.some((h, n) => header[n] !== h)) {
        throw new StorageDocError(`line ${i + 1}: a ${kind} table's headers must start with | ${expected.join(" | ")} |, not | ${header.join(" | ")} |`);
      }
      for (const row of rows) parseRow(store, kind, row.cells, row.line);
    }
    i = j - 1;
  }
  for (const [name, s] of stores) if (s.kv.length + s.tables.length + s.indexes.length + s.triggers.length === 0) stores.delete(name);
  return stores;
}

function parseRow(store: DocStore, kind: string, row: string[], line: number): void {
  const at = `line ${line} (${store.name})`;
  const name = codeName(row[0] ?? "", at);
  const listed = { key: store.kv, table: store.tables, index: store.indexes, trigger: store.triggers }[kind] as { name: string }[];
  if (listed.some((x) => x.name === name)) throw new StorageDocError(`${at}: ${kind} ${name} is listed twice`);
  switch (kind) {
    case "key": {
      const lifetime = (row[1] ?? "").trim() as Lifetime;
      if (!LIFETIMES.includes(lifetime)) throw new StorageDocError(`${at}: lifetime of ${name} must be one of ${LIFETIMES.join(", ")}, not "${row[1]}"`);
      store.kv.push({ name, pattern: keyPattern(name), lifetime, fields: fieldsOf(row[2] ?? "", `${at}, ${name}`) });
      return;
    }
    case "table": {
      const primaryKey = splitTop(stripCode(row[1] ?? "")).map((c) => c.trim());
      const columns = splitTop(stripCode(row[2] ?? "")).map((item) => {
        const m = /^([a-z_][a-z0-9_]*)\s+([A-Z]+)\b/.exec(item.trim());
        if (!m || !SQL_TYPES.has(m[2]!)) throw new StorageDocError(`${at}: column "${item.trim()}" of ${name} must be "name TYPE …" with a type of ${[...SQL_TYPES].join(", ")}`);
        return { name: m[1]!, type: m[2]! };
      });
      if (columns.length === 0) throw new StorageDocError(`${at}: table ${name} lists no columns`);
      store.tables.push({ name, primaryKey, columns });
      return;
    }
    case "index":
      store.indexes.push({ name, table: codeName(row[1] ?? "", at), columns: splitTop(stripCode(row[2] ?? "")).map((c) => c.trim()) });
      return;
    case "trigger":
      store.triggers.push({ name, table: codeName(row[1] ?? "", at) });
      return;
  }
}

/** The cells of a table row; `\|` is a `|` inside a cell. */
function cells(line: string): string[] {
  const parts = line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/);
  return parts.map((p) => p.replace(/\\\|/g, "|").trim());
}

/** A cell that is exactly one code span. */
function codeName(cell: string, at: string): string {
  const m = /^`([^`]+)`$/.exec(cell.trim());
  if (!m) throw new StorageDocError(`${at}: "${cell}" must be a name in backticks`);
  return m[1]!;
}

const stripCode = (text: string) => text.replace(/`/g, "");

/** Splits on commas outside (), {} and []. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if ("({[".includes(ch)) depth++;
    if (")}]".includes(ch)) depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  if (current.trim() !== "") parts.push(current);
  return parts;
}

function keyPattern(name: string): RegExp {
  const source = name
    .split(/\{[^}]+\}/)
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".+");
  return new RegExp(`^${source}$`);
}

/** The fields of a value cell that starts with `{ … }` (outside or inside backticks), else null. */
function fieldsOf(cell: string, at: string): DocField[] | null {
  const text = stripCode(cell).trim();
  return text.startsWith("{") ? recordFields(text, at) : null;
}

/** `{ a, b?, c: { d } }` (and whatever follows it) as fields; a nested `{ … }` after `name:` is a nested record. */
function recordFields(text: string, at: string): DocField[] {
  const end = closingBrace(text);
  if (end < 0) throw new StorageDocError(`${at}: the record's "{" is never closed`);
  return splitTop(text.slice(1, end)).map((item) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(\?)?(\s*:\s*(?=\{))?/.exec(item.trim());
    if (!m) throw new StorageDocError(`${at}: field "${item.trim()}" does not start with a name`);
    const field: DocField = { name: m[1]!, optional: m[2] === "?" };
    if (m[3] !== undefined) field.fields = recordFields(item.trim().slice(m[0].length), `${at}.${field.name}`);
    return field;
  });
}

function closingBrace(text: string): number {
  let depth = 0;
  for (let n = 0; n < text.length; n++) {
    if (text[n] === "{") depth++;
    if (text[n] === "}" && --depth === 0) return n;
  }
  return -1;
}

// --- what an object really holds -------------------------------------------------------

export interface ObservedColumn {
  name: string;
  type: string;
  /** 1-based position in the primary key, 0 when not part of it (pragma_table_info's `pk`). */
  pk: number;
}

export interface ObservedSchema {
  tables: { name: string; columns: ObservedColumn[] }[];
  indexes: DocIndex[];
  triggers: DocTrigger[];
}

export interface Snapshot {
  /** Which object in which state, for messages: "tenant after every feature". */
  label: string;
  /** `settled`: no transient state is open; `transient`: taken while one is. */
  phase: "settled" | "transient";
  /** KV keys and their values (a value may be undefined when it was not read). */
  kv: Record<string, unknown>;
  sql: ObservedSchema;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The fields of the records stored under one key: none undocumented, every required one
 * in every record, every optional one in some record; nested records likewise.
 */
function recordProblems(what: string, fields: DocField[], values: { label: string; v: unknown }[]): string[] {
  const problems: string[] = [];
  const seenFields = new Set<string>();
  const records: { label: string; v: Record<string, unknown> }[] = [];
  for (const { label, v } of values) {
    if (isRecord(v)) records.push({ label, v });
    else problems.push(`${what} is documented as a record but holds ${JSON.stringify(v)} (${label})`);
  }
  for (const { label, v } of records) {
    for (const field of Object.keys(v)) {
      seenFields.add(field);
      if (!fields.some((f) => f.name === field)) problems.push(`${what}: field "${field}" is not in the doc (${label})`);
    }
    for (const f of fields) if (!f.optional && !(f.name in v)) problems.push(`${what}: field "${f.name}" is missing (${label}); mark it "${f.name}?" if it may be absent`);
  }
  if (records.length === 0) return problems;
  for (const f of fields) {
    if (f.optional && !seenFields.has(f.name)) problems.push(`${what}: optional field "${f.name}" was in no record`);
    if (!f.fields) continue;
    const nested = records.filter(({ v }) => v[f.name] !== undefined).map(({ label, v }) => ({ label, v: v[f.name] }));
    problems.push(...recordProblems(`${what}.${f.name}`, f.fields, nested));
  }
  return problems;
}

/**
 * Where the snapshots of one store and its doc section disagree, one line each; empty
 * when they agree. A key, table, column, index or trigger that exists must be in the
 * doc; one the doc names must exist in some snapshot (`kept` keys in a settled one,
 * `transient` keys in a transient one and in no settled one, `legacy` keys in none).
 */
export function storageProblems(doc: DocStore, snapshots: Snapshot[]): string[] {
  const problems: string[] = [];
  const seenIn = (test: (s: Snapshot) => boolean) => snapshots.filter(test).map((s) => s.label);
  const docKeyOf = (key: string) => doc.kv.find((k) => k.pattern.test(key));

  // KV keys.
  for (const s of snapshots) {
    for (const key of Object.keys(s.kv)) if (!docKeyOf(key)) problems.push(`${doc.name}: KV key "${key}" is not in the doc (seen in: ${s.label})`);
  }
  for (const k of doc.kv) {
    const has = (s: Snapshot) => Object.keys(s.kv).some((key) => k.pattern.test(key));
    const settled = seenIn((s) => s.phase === "settled" && has(s));
    const transient = seenIn((s) => s.phase === "transient" && has(s));
    if (k.lifetime === "kept" && settled.length === 0) {
      problems.push(
        transient.length > 0
          ? `${doc.name}: KV key "${k.name}" is documented as kept but was seen only in a transient state (${transient.join("; ")}); mark it transient`
          : `${doc.name}: KV key "${k.name}" (kept) is in the doc but in no object after the features ran`,
      );
    }
    if (k.lifetime === "transient" && transient.length === 0) problems.push(`${doc.name}: KV key "${k.name}" (transient) is in the doc but was not seen in its state`);
    if (k.lifetime === "transient" && settled.length > 0) problems.push(`${doc.name}: KV key "${k.name}" is documented as transient but stays (seen in: ${settled.join("; ")})`);
    if (k.lifetime === "legacy" && settled.length + transient.length > 0) {
      problems.push(`${doc.name}: KV key "${k.name}" is documented as legacy but today's code writes it (seen in: ${[...settled, ...transient].join("; ")})`);
    }
    if (!k.fields) continue;
    const values = snapshots.flatMap((s) =>
      Object.entries(s.kv)
        .filter(([key, v]) => k.pattern.test(key) && v !== undefined)
        .map(([key, v]) => ({ label: `${s.label}, ${key}`, v })),
    );
    problems.push(...recordProblems(`${doc.name}: KV key "${k.name}"`, k.fields, values));
  }

  // Tables and their columns, in every snapshot (objects of one class may differ).
  const tablesSeen = new Set<string>();
  for (const s of snapshots) {
    for (const { name, columns } of s.sql.tables) {
      tablesSeen.add(name);
      const documented = doc.tables.find((t) => t.name === name);
      if (!documented) {
        problems.push(`${doc.name}: table "${name}" is not in the doc`);
        continue;
      }
      for (const c of columns) {
        const d = documented.columns.find((x) => x.name === c.name);
        if (!d) problems.push(`${doc.name}: column "${name}.${c.name}" (${c.type}) is not in the doc`);
        else if (d.type !== c.type) problems.push(`${doc.name}: column "${name}.${c.name}" is ${c.type}, the doc says ${d.type}`);
      }
      for (const d of documented.columns) {
        if (!columns.some((c) => c.name === d.name)) problems.push(`${doc.name}: column "${name}.${d.name}" is in the doc but not in the table`);
      }
      const pk = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      if (pk.join(", ") !== documented.primaryKey.join(", ")) {
        problems.push(`${doc.name}: the primary key of "${name}" is (${pk.join(", ")}), the doc says (${documented.primaryKey.join(", ")})`);
      }
    }
  }
  for (const t of doc.tables) if (!tablesSeen.has(t.name)) problems.push(`${doc.name}: table "${t.name}" is in the doc but in no object after the features ran`);

  // Indexes and triggers.
  const indexesSeen = new Set<string>();
  for (const x of snapshots.flatMap((s) => s.sql.indexes)) {
    indexesSeen.add(x.name);
    const d = doc.indexes.find((i) => i.name === x.name);
    if (!d) problems.push(`${doc.name}: index "${x.name}" on ${x.table} (${x.columns.join(", ")}) is not in the doc`);
    else if (d.table !== x.table || d.columns.join(", ") !== x.columns.join(", ")) {
      problems.push(`${doc.name}: index "${x.name}" is on ${x.table} (${x.columns.join(", ")}), the doc says ${d.table} (${d.columns.join(", ")})`);
    }
  }
  for (const d of doc.indexes) if (!indexesSeen.has(d.name)) problems.push(`${doc.name}: index "${d.name}" is in the doc but in no object after the features ran`);
  const triggersSeen = new Set<string>();
  for (const x of snapshots.flatMap((s) => s.sql.triggers)) {
    triggersSeen.add(x.name);
    const d = doc.triggers.find((t) => t.name === x.name);
    if (!d) problems.push(`${doc.name}: trigger "${x.name}" on ${x.table} is not in the doc`);
    else if (d.table !== x.table) problems.push(`${doc.name}: trigger "${x.name}" is on ${x.table}, the doc says ${d.table}`);
  }
  for (const d of doc.triggers) if (!triggersSeen.has(d.name)) problems.push(`${doc.name}: trigger "${d.name}" is in the doc but in no object after the features ran`);
  // The same disagreement seen in several objects is one problem.
  return [...new Set(problems)];
}
