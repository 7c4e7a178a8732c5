// The `fs` a deployed SDK server imports (the bundler maps `fs` and `node:fs` here, as
// `./__smcp/fs.js`; `fs/promises` to `./__smcp/fs-promises.js`, which re-exports this).
//
// It runs in the tenant's own isolate, beside the tenant's code, so like the harness it
// is untrusted and nothing of the platform relies on it: the tenant can replace any of
// it. The rules that matter (whose tree, how big, the quota) are kept by the platform's
// `SandboxFiles` entrypoint behind the `FILES` binding. What this module owns is the
// Node-shaped view over three layers:
//   - `/tmp/**`: in this instance's memory only, gone with the isolate;
//   - the persisted tree (every other absolute path), per tenant and server, shared by
//     the server's sessions: asynchronous calls ask the store, so they see other
//     sessions' writes; synchronous ones read a mirror (`cache`), the snapshot taken at
//     `__init` plus this instance's own writes;
//   - the package's bundled files under the root: read-only, shadowed by a persisted
//     file of the same path. Unlinking, renaming or removing a package file fails with
//     EPERM (no whiteouts); unlinking a persisted file that shadows one shows it again.
// Writes make missing parent directories (the store keeps them as rows), unlike Node.
// A synchronous write changes the mirror at once and is stored in the background in
// call order; `__flush()` resolves once every write started so far is stored or
// refused (a refusal of a synchronous write is logged with console.error and the
// mirror re-read from the store). The harness awaits it before it sends a response.
import { Buffer } from "node:buffer";

const encoder = new TextEncoder();

// --- errors, as Node shapes them ------------------------------------------------------

const ERRNO = {
  EPERM: [1, "operation not permitted"],
  ENOENT: [2, "no such file or directory"],
  EIO: [5, "i/o error"],
  EBADF: [9, "bad file descriptor"],
  EACCES: [13, "permission denied"],
  EEXIST: [17, "file already exists"],
  ENOTDIR: [20, "not a directory"],
  EISDIR: [21, "illegal operation on a directory"],
  EINVAL: [22, "invalid argument"],
  EFBIG: [27, "file too large"],
  ENOSPC: [28, "no space left on device"],
  ENOTEMPTY: [39, "directory not empty"],
};

function fsError(code, syscall, path, detail) {
  const [errno, text] = ERRNO[code] ?? ERRNO.EIO;
  const err = new Error(`${code}: ${detail ?? text}, ${syscall}${path === undefined ? "" : ` '${path}'`}`);
  err.errno = -errno;
  err.code = ERRNO[code] ? code : "EIO";
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

/** A store answer's value, or its refusal thrown as Node would. */
function unwrap(answer, syscall, path) {
  if (answer && answer.ok === true) return answer.value;
  if (answer && typeof answer.code === "string") throw fsError(answer.code, syscall, path, answer.message);
  throw fsError("EIO", syscall, path, "the file store gave no answer");
}

// --- paths ------------------------------------------------------------------------------

let root = "/app";

function normalise(absolute) {
  const out = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** An absolute, normalised path from what Node accepts: a string, a Buffer or a file: URL; relative to the root. */
function resolvePath(p, syscall) {
  let text = p;
  if (p instanceof URL || (typeof p === "object" && p !== null && typeof p.href === "string" && typeof p.protocol === "string")) {
    if (p.protocol !== "file:") throw Object.assign(new TypeError("The URL must be of scheme file"), { code: "ERR_INVALID_URL_SCHEME" });
    text = decodeURIComponent(p.pathname);
  } else if (p instanceof Uint8Array) {
    text = Buffer.from(p).toString("utf8");
  }
  if (typeof text !== "string") {
    throw Object.assign(new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL. Received ${typeof p}`), { code: "ERR_INVALID_ARG_TYPE" });
  }
  if (text.includes("\0")) throw Object.assign(new TypeError(`The argument 'path' must be a string without null bytes`), { code: "ERR_INVALID_ARG_VALUE" });
  if (text.startsWith("file://")) text = decodeURIComponent(new URL(text).pathname);
  if (text === "") throw fsError("ENOENT", syscall, text);
  return normalise(text.startsWith("/") ? text : `${root}/${text}`);
}

const parentOf = (p) => p.slice(0, p.lastIndexOf("/")) || "/";
const baseName = (p) => p.slice(p.lastIndexOf("/") + 1);
const isTmp = (p) => p === "/tmp" || p.startsWith("/tmp/");
const within = (p, dir) => dir === "/" || p === dir || p.startsWith(dir + "/");

function ancestorsOf(p) {
  const out = [];
  for (let i = p.indexOf("/", 1); i !== -1; i = p.indexOf("/", i + 1)) out.push(p.slice(0, i));
  return out;
}

// --- data ---------------------------------------------------------------------------------

function toBytes(data, encoding) {
  if (typeof data === "string") return new Uint8Array(Buffer.from(data, encoding ?? "utf8"));
  if (data instanceof Uint8Array) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  throw Object.assign(new TypeError(`The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${typeof data}`), {
    code: "ERR_INVALID_ARG_TYPE",
  });
}

const optionsOf = (options) => (typeof options === "string" ? { encoding: options } : (options ?? {}));

function output(bytes, options) {
  const { encoding } = optionsOf(options);
  // A copy: the tenant may change what it got without changing the file.
  const buffer = Buffer.from(bytes);
  return encoding && encoding !== "buffer" ? buffer.toString(encoding) : buffer;
}

// --- Stats and Dirent -----------------------------------------------------------------------

/** What Stats and Dirent share: which kind of entry it is (files and directories only). */
class EntryKind {
  isFile() {
    return this.kind === "file";
  }
  isDirectory() {
    return this.kind === "dir";
  }
  isSymbolicLink() {
    return false;
  }
  isBlockDevice() {
    return false;
  }
  isCharacterDevice() {
    return false;
  }
  isFIFO() {
    return false;
  }
  isSocket() {
    return false;
  }
}

class Stats extends EntryKind {
  constructor(kind, size, mtimeMs, readOnly = false) {
    super();
    this.dev = 0;
    this.ino = 0;
    this.mode = kind === "dir" ? 0o40755 : readOnly ? 0o100444 : 0o100644;
    this.nlink = 1;
    this.uid = 0;
    this.gid = 0;
    this.rdev = 0;
    this.size = size;
    this.blksize = 4096;
    this.blocks = Math.ceil(size / 512);
    this.atimeMs = this.mtimeMs = this.ctimeMs = this.birthtimeMs = mtimeMs;
    this.atime = new Date(mtimeMs);
    this.mtime = new Date(mtimeMs);
    this.ctime = new Date(mtimeMs);
    this.birthtime = new Date(mtimeMs);
    Object.defineProperty(this, "kind", { value: kind, enumerable: false });
  }
}

class Dirent extends EntryKind {
  constructor(name, kind, parentPath) {
    super();
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    Object.defineProperty(this, "kind", { value: kind, enumerable: false });
  }
}

// --- an in-memory tree: /tmp, and the mirror of the persisted tree ----------------------------

/**
 * Entries `{ kind, size, mtimeMs, data? }` by path, with the store's rules (missing
 * parents are made). In the mirror, `data` is absent for a file whose bytes the
 * snapshot did not carry, or that would take the mirror past `budget` bytes (the
 * persisted tree may be far larger than an isolate's memory; /tmp has no budget: it
 * is the instance's memory by definition).
 */
class MemTree {
  constructor(top, budget = Infinity) {
    this.entries = new Map();
    this.top = top;
    this.budget = budget;
    this.held = 0;
    this.entries.set(top, { kind: "dir", size: 0, mtimeMs: Date.now() });
  }
  /** Sets an entry, keeping its bytes only while the budget allows. */
  set(p, entry) {
    const old = this.entries.get(p);
    if (old && old.data) this.held -= old.data.byteLength;
    if (entry.data) {
      if (this.held + entry.data.byteLength > this.budget) entry = { ...entry, data: undefined };
      else this.held += entry.data.byteLength;
    }
    this.entries.set(p, entry);
  }
  delete(p) {
    const old = this.entries.get(p);
    if (old && old.data) this.held -= old.data.byteLength;
    this.entries.delete(p);
  }
  get(p) {
    return this.entries.get(p);
  }
  #parents(p, syscall) {
    const made = [];
    for (const dir of ancestorsOf(p)) {
      if (!within(dir, this.top) || dir === this.top) continue;
      const e = this.entries.get(dir);
      if (e && e.kind !== "dir") throw fsError("ENOTDIR", syscall, p);
      if (!e) made.push(dir);
    }
    for (const dir of made) this.set(dir, { kind: "dir", size: 0, mtimeMs: Date.now() });
  }
  write(p, bytes, append, syscall) {
    const e = this.entries.get(p);
    if (e && e.kind === "dir") throw fsError("EISDIR", syscall, p);
    this.#parents(p, syscall);
    let data = bytes;
    if (append && e) {
      if (e.data) {
        data = new Uint8Array(e.data.byteLength + bytes.byteLength);
        data.set(e.data, 0);
        data.set(bytes, e.data.byteLength);
      } else data = undefined;
    }
    const size = append && e ? e.size + bytes.byteLength : bytes.byteLength;
    this.set(p, { kind: "file", size, mtimeMs: Date.now(), data });
  }
  mkdir(p, recursive, syscall) {
    const e = this.entries.get(p);
    if (e) {
      if (recursive && e.kind === "dir") return false;
      throw fsError("EEXIST", syscall, p);
    }
    this.#parents(p, syscall);
    this.set(p, { kind: "dir", size: 0, mtimeMs: Date.now() });
    return true;
  }
  /** Paths under `p` (not `p` itself). */
  below(p) {
    const out = [];
    for (const key of this.entries.keys()) if (key !== p && within(key, p)) out.push(key);
    return out;
  }
  children(p) {
    const out = [];
    for (const [key, e] of this.entries) if (key !== p && parentOf(key) === p) out.push([baseName(key), e.kind]);
    return out;
  }
  remove(p) {
    for (const key of this.below(p)) this.delete(key);
    this.delete(p);
  }
  rename(from, to, syscall) {
    const source = this.entries.get(from);
    if (!source) throw fsError("ENOENT", syscall, from);
    if (from === to) return;
    if (within(to, from)) throw fsError("EINVAL", syscall, from);
    const target = this.entries.get(to);
    if (target) {
      if (source.kind === "file" && target.kind === "dir") throw fsError("EISDIR", syscall, to);
      if (source.kind === "dir" && target.kind === "file") throw fsError("ENOTDIR", syscall, to);
      if (target.kind === "dir" && this.children(to).length > 0) throw fsError("ENOTEMPTY", syscall, to);
    }
    this.#parents(to, syscall);
    const moved = [[from, source], ...this.below(from).map((k) => [k, this.entries.get(k)])];
    this.remove(to);
    for (const [key] of moved) this.delete(key);
    for (const [key, e] of moved) this.set(to + key.slice(from.length), e);
  }
}

// --- state ----------------------------------------------------------------------------------------

/** File bytes the mirror of the persisted tree keeps, at most (the store's snapshot carries as much). */
const MIRROR_BYTES = 16 * 1024 * 1024;
/** The `FILES` binding (`SandboxFiles`); null keeps the persisted layer in memory only. */
let store = null;
let tmp = new MemTree("/tmp");
let cache = new MemTree("/", MIRROR_BYTES);
/** Package files (read-only) and the directories they imply. */
let pkgFiles = new Map();
let pkgDirs = new Set(["/"]);
/** Store writes, in call order; never rejects. */
let queue = Promise.resolve();

function enqueue(work) {
  const run = queue.then(work);
  queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

function pkgEntry(p) {
  const data = pkgFiles.get(p);
  if (data) return { kind: "file", size: data.byteLength, mtimeMs: 0, data, readOnly: true };
  if (pkgDirs.has(p)) return { kind: "dir", size: 0, mtimeMs: 0, readOnly: true };
  return undefined;
}

/** The merged view for synchronous calls. */
function lookupSync(p) {
  if (isTmp(p)) return tmp.get(p);
  return cache.get(p) ?? pkgEntry(p);
}

function hasPackageFilesUnder(p) {
  for (const key of pkgFiles.keys()) if (within(key, p)) return true;
  return false;
}

function pkgChildren(p) {
  const out = [];
  const prefix = p === "/" ? "/" : p + "/";
  for (const dir of pkgDirs) if (dir !== p && dir.startsWith(prefix) && !dir.slice(prefix.length).includes("/")) out.push([baseName(dir), "dir"]);
  for (const file of pkgFiles.keys()) if (file.startsWith(prefix) && !file.slice(prefix.length).includes("/")) out.push([baseName(file), "file"]);
  return out;
}

function listing(p, own, options) {
  const merged = new Map(pkgChildren(p));
  for (const [name, kind] of own) merged.set(name, kind);
  if (p === "/") merged.set("tmp", "dir");
  const names = [...merged.keys()].sort();
  return optionsOf(options).withFileTypes ? names.map((n) => new Dirent(n, merged.get(n), p)) : names;
}

/** Refusals the store cannot know of, since it never sees package files. */
function checkWritable(p, syscall, { replace = true } = {}) {
  for (const dir of ancestorsOf(p)) if (pkgFiles.has(dir)) throw fsError("ENOTDIR", syscall, p);
  if (pkgDirs.has(p) && replace) throw fsError("EISDIR", syscall, p);
}

function refuseIfPackage(p, syscall) {
  if (hasPackageFilesUnder(p)) throw fsError("EPERM", syscall, p, "operation not permitted (a file of the deployed package is read-only)");
}

function report(err) {
  try {
    console.error(`SMCP fs: a write could not be stored: ${err && err.message}`);
  } catch {
    // a tenant may have replaced console; nothing else to do
  }
}

/** After the store refused a synchronous write, the mirror takes the store's state of `p` again. */
async function refresh(p) {
  const stat = await store.stat(p);
  cache.remove(p);
  if (!stat.ok) return;
  if (stat.value.kind === "dir") {
    cache.mkdir(p, true, "refresh");
    return;
  }
  const read = await store.read(p);
  if (read.ok) cache.write(p, read.value, false, "refresh");
}

/** A synchronous write: the mirror changes now, the store in the background. */
function background(p, apply, persist) {
  apply();
  if (!store) return;
  enqueue(async () => {
    try {
      unwrap(await persist(), "write", p);
    } catch (err) {
      report(err);
      await refresh(p).catch(() => undefined);
    }
  });
}

// --- init and flush ----------------------------------------------------------------------------------

/**
 * Called and awaited by the harness before the tenant's module is imported.
 * `files`: the `FILES` binding; `packageFiles`: `{ [absolutePath]: Uint8Array | string }`;
 * `root`: the package directory (process.cwd()), against which relative paths resolve.
 */
export async function __init({ files, packageFiles, root: packageRoot, snapshotBytes } = {}) {
  root = normalise(typeof packageRoot === "string" && packageRoot.startsWith("/") ? packageRoot : "/app");
  store = files ?? null;
  tmp = new MemTree("/tmp");
  cache = new MemTree("/", store ? MIRROR_BYTES : Infinity);
  pkgFiles = new Map();
  pkgDirs = new Set(["/", ...ancestorsOf(root + "/x")]);
  for (const [path, content] of Object.entries(packageFiles ?? {})) {
    if (typeof path !== "string" || !path.startsWith("/")) continue;
    const p = normalise(path);
    if (isTmp(p) || p === "/") continue;
    pkgFiles.set(p, typeof content === "string" ? encoder.encode(content) : new Uint8Array(content));
    for (const dir of ancestorsOf(p)) pkgDirs.add(dir);
  }
  queue = Promise.resolve();
  if (!store) return;
  const snapshot = unwrap(await store.snapshot(Math.min(snapshotBytes ?? MIRROR_BYTES, MIRROR_BYTES)), "snapshot", undefined);
  for (const e of snapshot.entries) {
    if (e.kind === "dir") cache.set(e.path, { kind: "dir", size: 0, mtimeMs: e.mtimeMs });
    else cache.set(e.path, { kind: "file", size: e.size, mtimeMs: e.mtimeMs, data: e.bytes ? new Uint8Array(e.bytes) : undefined });
  }
}

/** Resolves once every write started so far has been stored (or refused). */
export async function __flush() {
  let seen;
  do {
    seen = queue;
    await seen;
  } while (seen !== queue);
}

// --- the persisted layer, asynchronously --------------------------------------------------------------

async function statAsync(p, syscall) {
  if (isTmp(p)) {
    const e = tmp.get(p);
    if (!e) throw fsError("ENOENT", syscall, p);
    return e;
  }
  if (!store) {
    const e = lookupSync(p);
    if (!e) throw fsError("ENOENT", syscall, p);
    return e;
  }
  await __flush();
  const answer = await store.stat(p);
  if (answer.ok) return answer.value;
  if (answer.code === "ENOENT") {
    const e = pkgEntry(p);
    if (e) return e;
  }
  return unwrap(answer, syscall, p);
}

async function existsAsync(p) {
  try {
    await statAsync(p, "stat");
    return true;
  } catch (err) {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return false;
    throw err;
  }
}

async function readAsync(p, syscall = "open") {
  if (isTmp(p) || !store) {
    const e = lookupSync(p);
    if (!e) throw fsError("ENOENT", syscall, p);
    if (e.kind === "dir") throw fsError("EISDIR", "read", p);
    return e.data;
  }
  await __flush();
  const answer = await store.read(p);
  if (answer.ok) {
    const bytes = new Uint8Array(answer.value);
    const mirrored = cache.get(p);
    if (mirrored && mirrored.kind === "file") cache.set(p, { ...mirrored, size: bytes.byteLength, data: bytes });
    return bytes;
  }
  if (answer.code === "ENOENT") {
    const e = pkgEntry(p);
    if (e && e.kind === "file") return e.data;
    if (e) throw fsError("EISDIR", "read", p);
  }
  return unwrap(answer, answer.code === "EISDIR" ? "read" : syscall, p);
}

/** Writes `bytes` to `p` (the flag's `a` appends, its `x` refuses an existing file). */
async function writeAsync(p, bytes, flag, syscall) {
  const append = flag.includes("a");
  checkWritable(p, syscall);
  if (flag.includes("x") && (await existsAsync(p))) throw fsError("EEXIST", "open", p);
  if (isTmp(p)) return tmp.write(p, bytes, append, syscall);
  if (!store) return cache.write(p, bytes, append, syscall);
  let data = bytes;
  let appending = append;
  if (append && pkgFiles.has(p)) {
    // A package file appended to becomes a persisted file that starts with its bytes.
    await __flush();
    const stat = await store.stat(p);
    if (!stat.ok && stat.code === "ENOENT") {
      const base = pkgFiles.get(p);
      data = new Uint8Array(base.byteLength + bytes.byteLength);
      data.set(base, 0);
      data.set(bytes, base.byteLength);
      appending = false;
    }
  }
  const sent = data;
  const asAppend = appending;
  unwrap(await enqueue(() => store.write(p, sent, { append: asAppend })), syscall, p);
  try {
    cache.write(p, sent, asAppend, syscall);
  } catch {
    cache.remove(p);
  }
}

async function mkdirAsync(p, options, syscall = "mkdir") {
  const recursive = typeof options === "object" && options !== null && options.recursive === true;
  const made = (created) => (recursive ? (created ? p : undefined) : undefined);
  if (isTmp(p)) return made(tmp.mkdir(p, recursive, syscall));
  for (const dir of ancestorsOf(p)) if (pkgFiles.has(dir)) throw fsError("ENOTDIR", syscall, p);
  const pkg = pkgEntry(p);
  if (pkg) {
    if (recursive && pkg.kind === "dir") return undefined;
    throw fsError("EEXIST", syscall, p);
  }
  if (!recursive && !(await existsAsync(parentOf(p)))) throw fsError("ENOENT", syscall, p);
  if (!store) return made(cache.mkdir(p, recursive, syscall));
  const created = unwrap(await enqueue(() => store.mkdir(p, { recursive })), syscall, p);
  try {
    cache.mkdir(p, true, syscall);
  } catch {
    cache.remove(p);
  }
  return made(created);
}

async function readdirAsync(p, options) {
  if (isTmp(p)) {
    const e = tmp.get(p);
    if (!e) throw fsError("ENOENT", "scandir", p);
    if (e.kind !== "dir") throw fsError("ENOTDIR", "scandir", p);
    return listing(p, tmp.children(p), options);
  }
  if (!store) return readdirSync(p, options);
  await __flush();
  const answer = await store.readdir(p);
  if (answer.ok) return listing(p, answer.value.map((d) => [d.name, d.kind]), options);
  if (answer.code === "ENOENT" && pkgDirs.has(p)) return listing(p, [], options);
  if (answer.code === "ENOENT" && pkgFiles.has(p)) throw fsError("ENOTDIR", "scandir", p);
  return unwrap(answer, "scandir", p);
}

async function removeAsync(p, syscall, { recursive, force, dirOk, fileOk }) {
  let e;
  try {
    e = await statAsync(p, syscall);
  } catch (err) {
    if (force && err.code === "ENOENT") return;
    throw err;
  }
  if (e.kind === "dir" && !dirOk) throw fsError("EISDIR", syscall, p);
  if (e.kind === "file" && !fileOk) throw fsError("ENOTDIR", syscall, p);
  if (isTmp(p)) {
    if (p === "/tmp") throw fsError("EPERM", syscall, p);
    if (e.kind === "dir" && !recursive && tmp.children(p).length > 0) throw fsError("ENOTEMPTY", syscall, p);
    return tmp.remove(p);
  }
  refuseIfPackage(p, syscall);
  if (pkgDirs.has(p) && !cache.get(p) && store && !(await store.stat(p)).ok) return;
  if (!store) {
    if (e.kind === "dir" && !recursive && cache.children(p).length > 0) throw fsError("ENOTEMPTY", syscall, p);
    return cache.remove(p);
  }
  const answer = await enqueue(() => (e.kind === "file" ? store.unlink(p) : store.rm(p, { recursive })));
  if (!answer.ok && force && answer.code === "ENOENT") return;
  unwrap(answer, syscall, p);
  cache.remove(p);
}

async function renameAsync(from, to) {
  if (isTmp(from) !== isTmp(to)) {
    // Across layers: a copy then a removal, as Node does across devices only by hand;
    // /tmp and the persisted tree are one file system to the tenant.
    const e = await statAsync(from, "rename");
    if (e.kind === "dir") throw fsError("EPERM", "rename", from, "operation not permitted (a directory cannot move between /tmp and the persisted tree)");
    const bytes = await readAsync(from, "rename");
    await writeAsync(to, bytes, "w", "rename");
    await removeAsync(from, "rename", { recursive: false, force: false, dirOk: false, fileOk: true });
    return;
  }
  if (isTmp(from)) return tmp.rename(from, to, "rename");
  refuseIfPackage(from, "rename");
  checkWritable(to, "rename", { replace: false });
  if (pkgDirs.has(to) || pkgFiles.has(to)) {
    const e = await statAsync(from, "rename");
    if (pkgDirs.has(to) && e.kind === "file") throw fsError("EISDIR", "rename", to);
    if (pkgDirs.has(to)) throw fsError("ENOTEMPTY", "rename", to);
  }
  if (!store) return cache.rename(from, to, "rename");
  unwrap(await enqueue(() => store.rename(from, to)), "rename", from);
  try {
    cache.rename(from, to, "rename");
  } catch {
    cache.remove(from);
    cache.remove(to);
  }
}

// --- fs.promises ---------------------------------------------------------------------------------------------

const flagOf = (options, fallback) => {
  const flag = optionsOf(options).flag ?? fallback;
  if (typeof flag !== "string" || !/^[rwa]x?\+?$|^[wa]\+?x$/.test(flag)) throw fsError("EINVAL", "open", undefined, `invalid flag ${String(flag)}`);
  return flag;
};

async function readFile(path, options) {
  if (path instanceof FileHandle) return path.readFile(options);
  return output(await readAsync(resolvePath(path, "open")), options);
}

async function writeFile(path, data, options) {
  if (path instanceof FileHandle) return path.writeFile(data, options);
  await writeAsync(resolvePath(path, "open"), toBytes(data, optionsOf(options).encoding), flagOf(options, "w"), "open");
}

async function appendFile(path, data, options) {
  if (path instanceof FileHandle) return path.appendFile(data, options);
  await writeAsync(resolvePath(path, "open"), toBytes(data, optionsOf(options).encoding), flagOf(options, "a"), "open");
}

async function stat(path) {
  const p = resolvePath(path, "stat");
  const e = await statAsync(p, "stat");
  return new Stats(e.kind, e.size, e.mtimeMs, e.readOnly);
}

async function access(path) {
  await statAsync(resolvePath(path, "access"), "access");
}

async function mkdir(path, options) {
  return mkdirAsync(resolvePath(path, "mkdir"), options);
}

async function readdir(path, options) {
  return readdirAsync(resolvePath(path, "scandir"), options);
}

async function unlink(path) {
  await removeAsync(resolvePath(path, "unlink"), "unlink", { recursive: false, force: false, dirOk: false, fileOk: true });
}

async function rmdir(path, options) {
  const recursive = optionsOf(options).recursive === true;
  await removeAsync(resolvePath(path, "rmdir"), "rmdir", { recursive, force: false, dirOk: true, fileOk: false });
}

async function rm(path, options) {
  const { recursive = false, force = false } = optionsOf(options);
  const p = resolvePath(path, "rm");
  let e;
  try {
    e = await statAsync(p, "rm");
  } catch (err) {
    if (force && err.code === "ENOENT") return;
    throw err;
  }
  if (e.kind === "dir" && !recursive) {
    throw Object.assign(fsError("EISDIR", "rm", p, `Path is a directory: rm returned EISDIR (is a directory) ${p}`), { code: "ERR_FS_EISDIR" });
  }
  await removeAsync(p, "rm", { recursive, force, dirOk: true, fileOk: true });
}

async function rename(oldPath, newPath) {
  await renameAsync(resolvePath(oldPath, "rename"), resolvePath(newPath, "rename"));
}

async function copyFile(src, dest, mode = 0) {
  const from = resolvePath(src, "copyfile");
  const to = resolvePath(dest, "copyfile");
  const bytes = await readAsync(from, "copyfile");
  await writeAsync(to, bytes, mode & constants.COPYFILE_EXCL ? "wx" : "w", "copyfile");
}

async function realpath(path) {
  const p = resolvePath(path, "realpath");
  await statAsync(p, "realpath");
  return p;
}

async function mkdtemp(prefix) {
  for (;;) {
    const p = resolvePath(prefix + Math.random().toString(36).slice(2, 8), "mkdtemp");
    if (!(await existsAsync(p))) {
      await mkdirAsync(p, { recursive: false }, "mkdtemp");
      return p;
    }
  }
}

let nextFd = 3;

/** `fs.promises.open`'s handle, for whole-file use: reads see the file as opened, writes go to its end. */
class FileHandle {
  #path;
  #flag;
  #closed = false;
  #position = 0;
  constructor(path, flag) {
    this.#path = path;
    this.#flag = flag;
    this.fd = nextFd++;
  }
  #check(writing) {
    if (this.#closed) throw fsError("EBADF", writing ? "write" : "read");
    const writable = this.#flag !== "r";
    const readable = this.#flag.startsWith("r") || this.#flag.includes("+");
    if (writing ? !writable : !readable) throw fsError("EBADF", writing ? "write" : "read");
  }
  async readFile(options) {
    this.#check(false);
    return output(await readAsync(this.#path), options);
  }
  async read(buffer, offset = 0, length, position) {
    this.#check(false);
    const bytes = await readAsync(this.#path);
    const at = typeof position === "number" ? position : this.#position;
    const n = Math.max(0, Math.min(length ?? buffer.byteLength - offset, bytes.byteLength - at));
    buffer.set(bytes.subarray(at, at + n), offset);
    if (typeof position !== "number") this.#position += n;
    return { bytesRead: n, buffer };
  }
  async write(data, ...rest) {
    this.#check(true);
    let bytes;
    if (typeof data === "string") bytes = toBytes(data, typeof rest[1] === "string" ? rest[1] : undefined);
    else {
      const [offset = 0, length] = rest;
      const all = toBytes(data);
      bytes = all.subarray(offset, length === undefined ? undefined : offset + length);
    }
    await writeAsync(this.#path, bytes, "a", "write");
    return { bytesWritten: bytes.byteLength, buffer: data };
  }
  async writeFile(data, options) {
    this.#check(true);
    await writeAsync(this.#path, toBytes(data, optionsOf(options).encoding), "w", "write");
  }
  async appendFile(data, options) {
    this.#check(true);
    await writeAsync(this.#path, toBytes(data, optionsOf(options).encoding), "a", "write");
  }
  async stat() {
    return stat(this.#path);
  }
  async truncate(len = 0) {
    this.#check(true);
    const bytes = await readAsync(this.#path);
    const out = new Uint8Array(len);
    out.set(bytes.subarray(0, len));
    await writeAsync(this.#path, out, "w", "ftruncate");
  }
  async sync() {
    await __flush();
  }
  async datasync() {
    await __flush();
  }
  async close() {
    this.#closed = true;
  }
  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

async function open(path, flags = "r") {
  const p = resolvePath(path, "open");
  const flag = flagOf({ flag: typeof flags === "number" ? "r" : flags }, "r");
  const exists = await existsAsync(p);
  if (flag.includes("x") && exists) throw fsError("EEXIST", "open", p);
  if (flag.startsWith("r") && !exists) throw fsError("ENOENT", "open", p);
  if (exists && (await statAsync(p, "open")).kind === "dir" && flag !== "r") throw fsError("EISDIR", "open", p);
  if (flag.startsWith("w")) await writeAsync(p, new Uint8Array(0), "w", "open");
  else if (flag.startsWith("a") && !exists) await writeAsync(p, new Uint8Array(0), "a", "open");
  return new FileHandle(p, flag);
}

export const promises = {
  readFile,
  writeFile,
  appendFile,
  stat,
  lstat: stat,
  access,
  mkdir,
  mkdtemp,
  readdir,
  unlink,
  rmdir,
  rm,
  rename,
  copyFile,
  realpath,
  open,
  constants: undefined,
};

// --- synchronous calls -------------------------------------------------------------------------------------------

function statSync(path, options) {
  const p = resolvePath(path, "stat");
  const e = lookupSync(p);
  if (!e) {
    if (options && options.throwIfNoEntry === false) return undefined;
    throw fsError("ENOENT", "stat", p);
  }
  return new Stats(e.kind, e.size, e.mtimeMs, e.readOnly);
}

function existsSync(path) {
  try {
    return lookupSync(resolvePath(path, "stat")) !== undefined;
  } catch {
    return false;
  }
}

function accessSync(path) {
  const p = resolvePath(path, "access");
  if (!lookupSync(p)) throw fsError("ENOENT", "access", p);
}

function readFileSync(path, options) {
  const p = resolvePath(path, "open");
  const e = lookupSync(p);
  if (!e) throw fsError("ENOENT", "open", p);
  if (e.kind === "dir") throw fsError("EISDIR", "read", p);
  if (!e.data) throw fsError("EIO", "read", p, "this file was too large for the instance's start-up snapshot; read it with fs.promises.readFile");
  return output(e.data, options);
}

function readdirSync(path, options) {
  const p = resolvePath(path, "scandir");
  const e = lookupSync(p);
  if (!e) throw fsError("ENOENT", "scandir", p);
  if (e.kind !== "dir") throw fsError("ENOTDIR", "scandir", p);
  return listing(p, isTmp(p) ? tmp.children(p) : cache.children(p), options);
}

function realpathSync(path) {
  const p = resolvePath(path, "realpath");
  if (!lookupSync(p)) throw fsError("ENOENT", "realpath", p);
  return p;
}

function writeSync(p, bytes, flag, syscall) {
  checkWritable(p, syscall);
  const e = lookupSync(p);
  if (flag.includes("x") && e) throw fsError("EEXIST", "open", p);
  const append = flag.includes("a");
  if (isTmp(p)) return tmp.write(p, bytes, append, syscall);
  if (append && pkgFiles.has(p) && !cache.get(p)) {
    const base = pkgFiles.get(p);
    const data = new Uint8Array(base.byteLength + bytes.byteLength);
    data.set(base, 0);
    data.set(bytes, base.byteLength);
    return background(p, () => cache.write(p, data, false, syscall), () => store.write(p, data, { append: false }));
  }
  background(p, () => cache.write(p, bytes, append, syscall), () => store.write(p, bytes, { append }));
}

function writeFileSync(path, data, options) {
  writeSync(resolvePath(path, "open"), toBytes(data, optionsOf(options).encoding), flagOf(options, "w"), "open");
}

function appendFileSync(path, data, options) {
  writeSync(resolvePath(path, "open"), toBytes(data, optionsOf(options).encoding), flagOf(options, "a"), "open");
}

function mkdirSync(path, options) {
  const p = resolvePath(path, "mkdir");
  const recursive = typeof options === "object" && options !== null && options.recursive === true;
  if (isTmp(p)) return tmp.mkdir(p, recursive, "mkdir") && recursive ? p : undefined;
  for (const dir of ancestorsOf(p)) if (pkgFiles.has(dir)) throw fsError("ENOTDIR", "mkdir", p);
  const pkg = pkgEntry(p);
  if (pkg) {
    if (recursive && pkg.kind === "dir") return undefined;
    throw fsError("EEXIST", "mkdir", p);
  }
  if (!recursive && !lookupSync(parentOf(p))) throw fsError("ENOENT", "mkdir", p);
  let created = false;
  background(
    p,
    () => (created = cache.mkdir(p, recursive, "mkdir")),
    () => store.mkdir(p, { recursive: true }),
  );
  return created && recursive ? p : undefined;
}

function removeSync(p, syscall, { recursive, force, dirOk, fileOk }) {
  const e = lookupSync(p);
  if (!e) {
    if (force) return;
    throw fsError("ENOENT", syscall, p);
  }
  if (e.kind === "dir" && !dirOk) throw fsError("EISDIR", syscall, p);
  if (e.kind === "file" && !fileOk) throw fsError("ENOTDIR", syscall, p);
  const tree = isTmp(p) ? tmp : cache;
  if (p === "/tmp") throw fsError("EPERM", syscall, p);
  if (e.kind === "dir" && !recursive && (tree.children(p).length > 0 || (!isTmp(p) && pkgChildren(p).length > 0))) throw fsError("ENOTEMPTY", syscall, p);
  if (isTmp(p)) return tmp.remove(p);
  refuseIfPackage(p, syscall);
  if (!cache.get(p)) return;
  background(
    p,
    () => cache.remove(p),
    () => (e.kind === "file" ? store.unlink(p) : store.rm(p, { recursive: true })),
  );
}

function unlinkSync(path) {
  removeSync(resolvePath(path, "unlink"), "unlink", { recursive: false, force: false, dirOk: false, fileOk: true });
}

function rmdirSync(path, options) {
  removeSync(resolvePath(path, "rmdir"), "rmdir", { recursive: optionsOf(options).recursive === true, force: false, dirOk: true, fileOk: false });
}

function rmSync(path, options) {
  const { recursive = false, force = false } = optionsOf(options);
  const p = resolvePath(path, "rm");
  const e = lookupSync(p);
  if (e && e.kind === "dir" && !recursive) throw Object.assign(fsError("EISDIR", "rm", p, `Path is a directory: ${p}`), { code: "ERR_FS_EISDIR" });
  removeSync(p, "rm", { recursive, force, dirOk: true, fileOk: true });
}

function renameSync(oldPath, newPath) {
  const from = resolvePath(oldPath, "rename");
  const to = resolvePath(newPath, "rename");
  const e = lookupSync(from);
  if (!e) throw fsError("ENOENT", "rename", from);
  if (isTmp(from) && isTmp(to)) return tmp.rename(from, to, "rename");
  if (isTmp(from) !== isTmp(to)) {
    if (e.kind === "dir") throw fsError("EPERM", "rename", from, "operation not permitted (a directory cannot move between /tmp and the persisted tree)");
    writeSync(to, e.data ?? new Uint8Array(0), "w", "rename");
    return removeSync(from, "rename", { recursive: false, force: false, dirOk: false, fileOk: true });
  }
  refuseIfPackage(from, "rename");
  checkWritable(to, "rename", { replace: false });
  if (pkgDirs.has(to)) throw fsError(e.kind === "file" ? "EISDIR" : "ENOTEMPTY", "rename", to);
  background(
    from,
    () => cache.rename(from, to, "rename"),
    () => store.rename(from, to),
  );
}

function copyFileSync(src, dest, mode = 0) {
  const bytes = readFileSync(src);
  writeSync(resolvePath(dest, "copyfile"), new Uint8Array(bytes), mode & constants.COPYFILE_EXCL ? "wx" : "w", "copyfile");
}

function mkdtempSync(prefix) {
  for (;;) {
    const p = resolvePath(prefix + Math.random().toString(36).slice(2, 8), "mkdtemp");
    if (!lookupSync(p)) {
      mkdirSync(p);
      return p;
    }
  }
}

// --- callback forms -------------------------------------------------------------------------------------------------

function callbackOf(args, name) {
  const cb = args.pop();
  if (typeof cb !== "function") throw Object.assign(new TypeError(`The "cb" argument of fs.${name} must be of type function`), { code: "ERR_INVALID_ARG_TYPE" });
  return cb;
}

const callbackForm = (name, fn) =>
  function (...args) {
    const cb = callbackOf(args, name);
    fn(...args).then(
      (value) => cb(null, value),
      (err) => cb(err),
    );
  };

const readFileCb = callbackForm("readFile", readFile);
const writeFileCb = callbackForm("writeFile", writeFile);
const appendFileCb = callbackForm("appendFile", appendFile);
const statCb = callbackForm("stat", stat);
const accessCb = callbackForm("access", access);
const mkdirCb = callbackForm("mkdir", mkdir);
const readdirCb = callbackForm("readdir", readdir);
const unlinkCb = callbackForm("unlink", unlink);
const rmdirCb = callbackForm("rmdir", rmdir);
const rmCb = callbackForm("rm", rm);
const renameCb = callbackForm("rename", rename);
const copyFileCb = callbackForm("copyFile", copyFile);
const realpathCb = callbackForm("realpath", realpath);
const mkdtempCb = callbackForm("mkdtemp", mkdtemp);

function exists(path, cb) {
  let p;
  try {
    p = resolvePath(path, "stat");
  } catch {
    return cb(false);
  }
  existsAsync(p).then(cb, () => cb(false));
}

export const constants = Object.freeze({
  F_OK: 0,
  R_OK: 4,
  W_OK: 2,
  X_OK: 1,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 64,
  O_EXCL: 128,
  O_TRUNC: 512,
  O_APPEND: 1024,
  S_IFMT: 0o170000,
  S_IFREG: 0o100000,
  S_IFDIR: 0o40000,
  COPYFILE_EXCL: 1,
  COPYFILE_FICLONE: 2,
  COPYFILE_FICLONE_FORCE: 4,
});
promises.constants = constants;

export const { F_OK, R_OK, W_OK, X_OK } = constants;

export {
  Stats,
  Dirent,
  FileHandle,
  readFileCb as readFile,
  writeFileCb as writeFile,
  appendFileCb as appendFile,
  statCb as stat,
  statCb as lstat,
  accessCb as access,
  mkdirCb as mkdir,
  readdirCb as readdir,
  unlinkCb as unlink,
  rmdirCb as rmdir,
  rmCb as rm,
  renameCb as rename,
  copyFileCb as copyFile,
  realpathCb as realpath,
  mkdtempCb as mkdtemp,
  exists,
  readFileSync,
  writeFileSync,
  appendFileSync,
  statSync,
  statSync as lstatSync,
  existsSync,
  accessSync,
  readdirSync,
  mkdirSync,
  mkdtempSync,
  unlinkSync,
  rmdirSync,
  rmSync,
  renameSync,
  copyFileSync,
  realpathSync,
};

export default {
  promises,
  constants,
  F_OK,
  R_OK,
  W_OK,
  X_OK,
  Stats,
  Dirent,
  readFile: readFileCb,
  writeFile: writeFileCb,
  appendFile: appendFileCb,
  stat: statCb,
  lstat: statCb,
  access: accessCb,
  mkdir: mkdirCb,
  readdir: readdirCb,
  unlink: unlinkCb,
  rmdir: rmdirCb,
  rm: rmCb,
  rename: renameCb,
  copyFile: copyFileCb,
  realpath: realpathCb,
  mkdtemp: mkdtempCb,
  exists,
  readFileSync,
  writeFileSync,
  appendFileSync,
  statSync,
  lstatSync: statSync,
  existsSync,
  accessSync,
  readdirSync,
  mkdirSync,
  mkdtempSync,
  unlinkSync,
  rmdirSync,
  rmSync,
  renameSync,
  copyFileSync,
  realpathSync,
};
