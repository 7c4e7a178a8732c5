/**
 * Persistent files of deployed servers (SPEC section 9; tables `server_files` and
 * `server_file_chunks`): one tree per server, shared by that server's sessions, under
 * the tenant's tool-data quota. The sandbox reaches it only through `SandboxFiles`
 * (sandbox/files/entrypoint.ts), whose props name the server, so a server can name
 * no other tree.
 *
 * What this module owns are the rules a file system must keep whatever the caller
 * does: paths are absolute and normalised (the sandbox's shim resolves `.`, `..` and
 * relative paths; a path that still has them is refused, never reinterpreted), a file
 * is at most `FILE_LIMITS.maxFileBytes`, a directory is never a file, and a write that
 * would pass the quota stores nothing. Every call runs in one synchronous transaction
 * (`TenantDO.files`), and a refusal is a `FileError` thrown before the first write, so
 * the rollback has nothing to undo.
 *
 * Directories are rows of their own, made for every missing ancestor by a write, a
 * mkdir or a rename (the store cannot see the package's read-only files, whose
 * directories the shim adds to its view). A file's bytes are split into chunks of
 * `FILE_LIMITS.chunkBytes`, since one SQLite value holds about 2 MB; an append
 * rewrites only the last, partial chunk.
 *
 * Quota: an entry row costs `3 × (server + path) + 64` bytes (the row, its key index
 * and its parent index), a chunk row `2 × (server + path) + 8 + bytes + 64`, each one
 * row; the totals are the tenant's `toolDataUsage`, shared with `tool_data`.
 */
import { utf8Length } from "@smcp/runtime";

export const FILE_LIMITS = {
  /** UTF-8 bytes of a whole path (Linux's PATH_MAX is 4096; paths of real servers are far shorter). */
  maxPathBytes: 1024,
  /** UTF-8 bytes of one path component, as Linux's NAME_MAX. */
  maxNameBytes: 255,
  maxFileBytes: 8 * 1024 * 1024,
  chunkBytes: 1024 * 1024,
  /** Entries one readdir answers. */
  maxReaddir: 10_000,
  /** Bytes one snapshot carries (RPC messages are capped at 32 MiB). */
  maxSnapshotBytes: 16 * 1024 * 1024,
  /** Entries one snapshot lists. */
  maxSnapshotEntries: 20_000,
} as const;

export const SERVER_FILES_SCHEMA = `
CREATE TABLE server_files (
  server TEXT NOT NULL,
  path TEXT NOT NULL,
  parent TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  PRIMARY KEY (server, path)
);
CREATE INDEX server_files_by_parent ON server_files (server, parent, path);
CREATE TABLE server_file_chunks (
  server TEXT NOT NULL,
  path TEXT NOT NULL,
  seq INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (server, path, seq)
);
`;

const ENTRY_OVERHEAD = 64;
const CHUNK_OVERHEAD = 64 + 8;

const ENTRY_BYTES_SQL = `3 * (length(CAST(server AS BLOB)) + length(CAST(path AS BLOB))) + ${ENTRY_OVERHEAD}`;
const CHUNK_BYTES_SQL = `2 * (length(CAST(server AS BLOB)) + length(CAST(path AS BLOB))) + length(bytes) + ${CHUNK_OVERHEAD}`;

const entryBytes = (server: string, path: string) => 3 * (utf8Length(server) + utf8Length(path)) + ENTRY_OVERHEAD;
const chunkBytes = (server: string, path: string, size: number) => 2 * (utf8Length(server) + utf8Length(path)) + size + CHUNK_OVERHEAD;

/** What every file call answers; the codes are Node's, so the shim can throw them as they are. */
export type FileErrorCode = "ENOENT" | "EEXIST" | "EISDIR" | "ENOTDIR" | "ENOTEMPTY" | "ENOSPC" | "EINVAL" | "EFBIG" | "EACCES" | "EIO";
export type FileAnswer<T> = { ok: true; value: T } | { ok: false; code: FileErrorCode; message: string };

export class FileError extends Error {
  readonly code: FileErrorCode;
  constructor(code: FileErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type FileKind = "file" | "dir";
export interface FileStat {
  kind: FileKind;
  size: number;
  mtimeMs: number;
}
export interface DirEntry {
  name: string;
  kind: FileKind;
}
export interface SnapshotEntry extends FileStat {
  path: string;
  /** Absent when the snapshot's byte budget ran out before this file. */
  bytes?: Uint8Array;
}
export interface FileSnapshot {
  entries: SnapshotEntry[];
  /** False when an entry was left out or a file's bytes were: the shim then reads those from the store. */
  complete: boolean;
}

/** One call, as `SandboxFiles` checked it (paths still go through `checkPath` here). */
export type FileCall =
  | { op: "stat"; path: string }
  | { op: "read"; path: string }
  | { op: "write"; path: string; bytes: Uint8Array; append: boolean }
  | { op: "rename"; from: string; to: string }
  | { op: "unlink"; path: string }
  | { op: "rm"; path: string; recursive: boolean }
  | { op: "mkdir"; path: string; recursive: boolean }
  | { op: "readdir"; path: string }
  | { op: "snapshot"; maxBytes: number };

export interface FileQuota {
  usage(): { bytes: number; rows: number };
  setUsage(usage: { bytes: number; rows: number }): void;
  limits: { bytes: number; rows: number };
}

/** The bytes and rows every server's files hold, as the quota counts them (for `toolDataUsage` when it is recomputed). */
export function storedFileUsage(sql: SqlStorage): { bytes: number; rows: number } {
  const e = sql.exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${ENTRY_BYTES_SQL}) AS bytes FROM server_files`).one();
  const c = sql.exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${CHUNK_BYTES_SQL}) AS bytes FROM server_file_chunks`).one();
  return { bytes: (e.bytes ?? 0) + (c.bytes ?? 0), rows: e.rows + c.rows };
}

/**
 * `path`, if it is absolute and normalised; else EINVAL. `/` only where `root` allows
 * it (stat, readdir, mkdir), since it can be neither written nor removed.
 */
export function checkPath(path: unknown, root = false): string {
  if (typeof path !== "string" || !path.startsWith("/")) throw new FileError("EINVAL", "a path must be an absolute string");
  if (path === "/") {
    if (root) return path;
    throw new FileError("EINVAL", "the root directory cannot be written or removed");
  }
  if (utf8Length(path) > FILE_LIMITS.maxPathBytes) throw new FileError("EINVAL", `a path is at most ${FILE_LIMITS.maxPathBytes} bytes`);
  if (path.includes("\0")) throw new FileError("EINVAL", "a path cannot contain a NUL character");
  for (const name of path.slice(1).split("/")) {
    if (name === "" || name === "." || name === "..") throw new FileError("EINVAL", `a path must be normalised (no empty, "." or ".." component): ${path}`);
    if (utf8Length(name) > FILE_LIMITS.maxNameBytes) throw new FileError("EINVAL", `a path component is at most ${FILE_LIMITS.maxNameBytes} bytes`);
  }
  return path;
}

export const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";

/** `/a`, `/a/b` for `/a/b/c`: the directories a path needs. */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf("/", 1); i !== -1; i = path.indexOf("/", i + 1)) out.push(path.slice(0, i));
  return out;
}

/** Rows of a tree: the path itself and everything under it (`/` sorts just before `0`). */
const TREE = "(path = ?1 OR (path >= ?1 || '/' AND path < ?1 || '0'))";

const toBlob = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export class ServerFiles {
  readonly #sql: SqlStorage;
  readonly #server: string;
  readonly #quota: FileQuota;

  constructor(sql: SqlStorage, server: string, quota: FileQuota) {
    this.#sql = sql;
    this.#server = server;
    this.#quota = quota;
  }

  /** Runs one call; throws `FileError` for a refusal, before anything is written. */
  apply(call: FileCall): unknown {
    switch (call.op) {
      case "stat":
        return this.stat(checkPath(call.path, true));
      case "read":
        return this.read(checkPath(call.path));
      case "write":
        return this.write(checkPath(call.path), call.bytes, call.append);
      case "rename":
        return this.rename(checkPath(call.from), checkPath(call.to));
      case "unlink":
        return this.unlink(checkPath(call.path));
      case "rm":
        return this.rm(checkPath(call.path), call.recursive);
      case "mkdir":
        return this.mkdir(checkPath(call.path, true), call.recursive);
      case "readdir":
        return this.readdir(checkPath(call.path, true));
      case "snapshot":
        return this.snapshot(call.maxBytes);
    }
  }

  #entry(path: string): FileStat | undefined {
    const row = this.#sql
      .exec<{ kind: FileKind; size: number; mtime: number }>("SELECT kind, size, mtime FROM server_files WHERE server = ? AND path = ?", this.#server, path)
      .toArray()[0];
    return row && { kind: row.kind, size: row.size, mtimeMs: row.mtime };
  }

  stat(path: string): FileStat {
    if (path === "/") return { kind: "dir", size: 0, mtimeMs: 0 };
    const entry = this.#entry(path);
    if (!entry) throw new FileError("ENOENT", `no such file or directory: ${path}`);
    return entry;
  }

  read(path: string): Uint8Array {
    const entry = this.stat(path);
    if (entry.kind === "dir") throw new FileError("EISDIR", `is a directory: ${path}`);
    return this.#bytes(path, entry.size);
  }

  #bytes(path: string, size: number): Uint8Array {
    const out = new Uint8Array(size);
    let at = 0;
    for (const row of this.#sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM server_file_chunks WHERE server = ? AND path = ? ORDER BY seq", this.#server, path)) {
      out.set(new Uint8Array(row.bytes), at);
      at += row.bytes.byteLength;
    }
    return out;
  }

  /** The ancestors of `path` that have no row yet; ENOTDIR when one of them is a file. */
  #missingAncestors(path: string): string[] {
    const missing: string[] = [];
    for (const dir of ancestorsOf(path)) {
      const entry = this.#entry(dir);
      if (entry?.kind === "file") throw new FileError("ENOTDIR", `not a directory: ${dir}`);
      if (!entry) missing.push(dir);
    }
    return missing;
  }

  /** Raises the quota's totals by `bytes` and `rows`, or refuses (ENOSPC) with nothing written. */
  #charge(bytes: number, rows: number): void {
    const usage = this.#quota.usage();
    const { limits } = this.#quota;
    const next = { bytes: Math.max(0, usage.bytes + bytes), rows: Math.max(0, usage.rows + rows) };
    if (rows > 0 && next.rows > limits.rows) {
      throw new FileError("ENOSPC", `no space left: this tenant may store ${limits.rows} rows of tool data and files and holds ${usage.rows}; nothing was written`);
    }
    if (bytes > 0 && next.bytes > limits.bytes) {
      throw new FileError("ENOSPC", `no space left: this tenant may store ${limits.bytes} bytes of tool data and files and holds ${usage.bytes}; nothing was written`);
    }
    this.#quota.setUsage(next);
  }

  #insertDirs(dirs: string[], now: number): void {
    for (const dir of dirs) {
      this.#sql.exec("INSERT INTO server_files (server, path, parent, kind, size, mtime) VALUES (?, ?, ?, 'dir', 0, ?)", this.#server, dir, parentOf(dir), now);
    }
  }

  #dirsCost(dirs: string[]): number {
    return dirs.reduce((sum, dir) => sum + entryBytes(this.#server, dir), 0);
  }

  write(path: string, bytes: Uint8Array, append: boolean): FileStat {
    const entry = this.#entry(path);
    if (entry?.kind === "dir") throw new FileError("EISDIR", `is a directory: ${path}`);
    const dirs = this.#missingAncestors(path);
    const oldSize = entry?.size ?? 0;
    const size = append ? oldSize + bytes.byteLength : bytes.byteLength;
    if (size > FILE_LIMITS.maxFileBytes) throw new FileError("EFBIG", `a file is at most ${FILE_LIMITS.maxFileBytes} bytes; ${path} would be ${size}`);

    // The chunks that change: from `first` on. A write replaces them all; an append
    // rewrites the partial last chunk, if there is one, and adds the rest.
    const chunk = FILE_LIMITS.chunkBytes;
    const first = append ? Math.floor(oldSize / chunk) : 0;
    let data = bytes;
    if (append && oldSize % chunk !== 0) {
      const last = this.#sql
        .exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM server_file_chunks WHERE server = ? AND path = ? AND seq = ?", this.#server, path, first)
        .one().bytes;
      data = new Uint8Array(last.byteLength + bytes.byteLength);
      data.set(new Uint8Array(last), 0);
      data.set(bytes, last.byteLength);
    }
    const old = this.#sql
      .exec<{ rows: number; bytes: number | null }>(
        `SELECT count(*) AS rows, sum(${CHUNK_BYTES_SQL}) AS bytes FROM server_file_chunks WHERE server = ? AND path = ? AND seq >= ?`,
        this.#server,
        path,
        first,
      )
      .one();
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < data.byteLength; at += chunk) pieces.push(data.subarray(at, at + chunk));
    const newBytes = pieces.reduce((sum, p) => sum + chunkBytes(this.#server, path, p.byteLength), 0);
    const entryCost = entry ? 0 : entryBytes(this.#server, path);
    this.#charge(
      this.#dirsCost(dirs) + entryCost + newBytes - (old.bytes ?? 0),
      dirs.length + (entry ? 0 : 1) + pieces.length - old.rows,
    );

    const now = Date.now();
    this.#insertDirs(dirs, now);
    this.#sql.exec("DELETE FROM server_file_chunks WHERE server = ? AND path = ? AND seq >= ?", this.#server, path, first);
    pieces.forEach((piece, i) => {
      this.#sql.exec("INSERT INTO server_file_chunks (server, path, seq, bytes) VALUES (?, ?, ?, ?)", this.#server, path, first + i, toBlob(piece));
    });
    this.#sql.exec(
      "INSERT INTO server_files (server, path, parent, kind, size, mtime) VALUES (?, ?, ?, 'file', ?, ?) ON CONFLICT (server, path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime",
      this.#server,
      path,
      parentOf(path),
      size,
      now,
    );
    return { kind: "file", size, mtimeMs: now };
  }

  /** Whether `dir` has an entry under it. */
  #hasChildren(dir: string): boolean {
    return this.#sql.exec("SELECT 1 FROM server_files WHERE server = ? AND parent = ? LIMIT 1", this.#server, dir).toArray().length > 0;
  }

  /** Removes `path` and, for a directory, everything under it; gives its bytes and rows back. */
  #removeTree(path: string): void {
    const e = this.#sql
      .exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${ENTRY_BYTES_SQL}) AS bytes FROM server_files WHERE server = ?2 AND ${TREE}`, path, this.#server)
      .one();
    const c = this.#sql
      .exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${CHUNK_BYTES_SQL}) AS bytes FROM server_file_chunks WHERE server = ?2 AND ${TREE}`, path, this.#server)
      .one();
    this.#sql.exec(`DELETE FROM server_file_chunks WHERE server = ?2 AND ${TREE}`, path, this.#server);
    this.#sql.exec(`DELETE FROM server_files WHERE server = ?2 AND ${TREE}`, path, this.#server);
    this.#charge(-((e.bytes ?? 0) + (c.bytes ?? 0)), -(e.rows + c.rows));
  }

  unlink(path: string): null {
    const entry = this.stat(path);
    if (entry.kind === "dir") throw new FileError("EISDIR", `is a directory (unlink removes files; use rm or rmdir): ${path}`);
    this.#removeTree(path);
    return null;
  }

  /** Removes a file, or a directory: an empty one, or with `recursive` everything under it. */
  rm(path: string, recursive: boolean): null {
    const entry = this.stat(path);
    if (entry.kind === "dir" && !recursive && this.#hasChildren(path)) throw new FileError("ENOTEMPTY", `directory not empty: ${path}`);
    this.#removeTree(path);
    return null;
  }

  /** Creates `path` and any missing ancestor; true when it made the directory itself. */
  mkdir(path: string, recursive: boolean): boolean {
    const entry = path === "/" ? this.stat(path) : this.#entry(path);
    if (entry) {
      if (recursive && entry.kind === "dir") return false;
      throw new FileError("EEXIST", `file already exists: ${path}`);
    }
    const dirs = [...this.#missingAncestors(path), path];
    this.#charge(this.#dirsCost(dirs), dirs.length);
    this.#insertDirs(dirs, Date.now());
    return true;
  }

  readdir(path: string): DirEntry[] {
    if (this.stat(path).kind !== "dir") throw new FileError("ENOTDIR", `not a directory: ${path}`);
    return this.#sql
      .exec<{ path: string; kind: FileKind }>("SELECT path, kind FROM server_files WHERE server = ? AND parent = ? ORDER BY path LIMIT ?", this.#server, path, FILE_LIMITS.maxReaddir)
      .toArray()
      .map((r) => ({ name: r.path.slice(r.path.lastIndexOf("/") + 1), kind: r.kind }));
  }

  /**
   * Moves a file or a directory tree, as POSIX rename: a file replaces a file, a
   * directory replaces an empty directory, and nothing moves into itself.
   */
  rename(from: string, to: string): null {
    const source = this.stat(from);
    if (from === to) return null;
    if (to.startsWith(from + "/")) throw new FileError("EINVAL", `cannot move ${from} into itself (${to})`);
    const target = this.#entry(to);
    if (target) {
      if (source.kind === "file" && target.kind === "dir") throw new FileError("EISDIR", `is a directory: ${to}`);
      if (source.kind === "dir" && target.kind === "file") throw new FileError("ENOTDIR", `not a directory: ${to}`);
      if (target.kind === "dir" && this.#hasChildren(to)) throw new FileError("ENOTEMPTY", `directory not empty: ${to}`);
    }
    const dirs = this.#missingAncestors(to);
    // Every moved row's path changes by the same number of bytes.
    const delta = utf8Length(to) - utf8Length(from);
    const entries = this.#sql.exec<{ n: number }>(`SELECT count(*) AS n FROM server_files WHERE server = ?2 AND ${TREE}`, from, this.#server).one().n;
    const chunks = this.#sql.exec<{ n: number }>(`SELECT count(*) AS n FROM server_file_chunks WHERE server = ?2 AND ${TREE}`, from, this.#server).one().n;
    if (target) this.#removeTree(to);
    this.#charge(this.#dirsCost(dirs) + delta * (3 * entries + 2 * chunks), dirs.length);
    this.#insertDirs(dirs, Date.now());
    // ?1 from, ?2 server, ?3 to: a moved path is `to` followed by what followed `from`.
    const moved = "?3 || substr(path, length(?1) + 1)";
    this.#sql.exec(
      `UPDATE server_files SET path = ${moved}, parent = CASE WHEN path = ?1 THEN ?4 ELSE ?3 || substr(parent, length(?1) + 1) END WHERE server = ?2 AND ${TREE}`,
      from,
      this.#server,
      to,
      parentOf(to),
    );
    this.#sql.exec(`UPDATE server_file_chunks SET path = ${moved} WHERE server = ?2 AND ${TREE}`, from, this.#server, to);
    return null;
  }

  /** Every entry (up to a bound) and the bytes of files in path order while `maxBytes` lasts. */
  snapshot(maxBytes: number): FileSnapshot {
    let budget = Math.max(0, Math.min(maxBytes, FILE_LIMITS.maxSnapshotBytes));
    const rows = this.#sql
      .exec<{ path: string; kind: FileKind; size: number; mtime: number }>(
        "SELECT path, kind, size, mtime FROM server_files WHERE server = ? ORDER BY path LIMIT ?",
        this.#server,
        FILE_LIMITS.maxSnapshotEntries + 1,
      )
      .toArray();
    let complete = rows.length <= FILE_LIMITS.maxSnapshotEntries;
    const entries = rows.slice(0, FILE_LIMITS.maxSnapshotEntries).map((r): SnapshotEntry => {
      const entry: SnapshotEntry = { path: r.path, kind: r.kind, size: r.size, mtimeMs: r.mtime };
      if (r.kind === "file") {
        if (r.size <= budget) {
          entry.bytes = this.#bytes(r.path, r.size);
          budget -= r.size;
        } else complete = false;
      }
      return entry;
    });
    return { entries, complete };
  }

  /** Every file of the server goes (purging a server); its bytes and rows are given back. */
  purge(): number {
    const count = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM server_files WHERE server = ? AND kind = 'file'", this.#server).one().n;
    const e = this.#sql.exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${ENTRY_BYTES_SQL}) AS bytes FROM server_files WHERE server = ?`, this.#server).one();
    const c = this.#sql
      .exec<{ rows: number; bytes: number | null }>(`SELECT count(*) AS rows, sum(${CHUNK_BYTES_SQL}) AS bytes FROM server_file_chunks WHERE server = ?`, this.#server)
      .one();
    this.#sql.exec("DELETE FROM server_file_chunks WHERE server = ?", this.#server);
    this.#sql.exec("DELETE FROM server_files WHERE server = ?", this.#server);
    this.#charge(-((e.bytes ?? 0) + (c.bytes ?? 0)), -(e.rows + c.rows));
    return count;
  }
}
