/**
 * Persistent files of deployed servers (SPEC section 9, docs/tenant-servers.md): the
 * store (tenant/server-files.ts) in a real TenantDO, reached as a sandbox reaches it,
 * through the `SandboxFiles` entrypoint; and the fs shim (`__smcp/fs.js`) as it runs,
 * in Worker Loader isolates of its own, driven by a small module that imports it as a
 * bundled SDK server would. Two isolates of the same server stand for two sessions (or
 * one rebuilt after eviction): the second must see the first's files, not its /tmp.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import converterSource from "../../../examples/unit-converter.js?raw";
import { FS_MODULE, FS_PROMISES_MODULE, FS_PROMISES_SOURCE, FS_SOURCE, type FilesProps, type SandboxFiles } from "../src/sandbox/files";
import { SANDBOX_COMPATIBILITY_DATE } from "../src/sandbox/limits";
import { FILE_LIMITS } from "../src/tenant/server-files";
import { ToolData } from "../src/tenant/tool-data";
import {
  ADMIN_TOKEN,
  EMPTY_STORAGE,
  ORIGIN,
  admin,
  adminOk,
  holdSession,
  mcpUrl,
  openSession,
  provisionTenant,
  rememberIncarnation,
  sessionStub,
  storageOf,
  uniqueName,
} from "./helpers";

type Files = Service<SandboxFiles>;
const filesOf = (props: FilesProps): Files =>
  (exports as unknown as { SandboxFiles: (o: { props: FilesProps }) => Files }).SandboxFiles({ props });

async function tenantWithFiles(limits?: Record<string, number>): Promise<{ tenant: string; incarnation: string }> {
  const { tenant } = await provisionTenant({ prefix: "fs", servers: [] });
  if (limits) await adminOk("PATCH", `/tenants/${tenant}`, { limits });
  return { tenant, incarnation: await rememberIncarnation(tenant) };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const tenantDO = (tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));
/** The tenant's quota totals as the platform reads them (kept in KV; counted from the tables when missing). */
const usage = (tenant: string) => runInDurableObject(tenantDO(tenant), (_i, state) => new ToolData(state.storage).usage());

/** The running totals, and the same counted afresh from the tables: a write, move or removal that kept the totals right leaves them equal. */
const runningAndRecounted = (tenant: string) =>
  runInDurableObject(tenantDO(tenant), (_i, state) => {
    const running = state.storage.kv.get("toolDataUsage");
    state.storage.kv.delete("toolDataUsage");
    return { running, recounted: new ToolData(state.storage).usage() };
  });

describe("SandboxFiles: the store", () => {
  it("deployed:files — write, append, read, stat, readdir, rename, unlink, rm and mkdir keep POSIX's refusals", async () => {
    const t = await tenantWithFiles();
    const files = filesOf({ ...t, server: "app" });
    expect(await files.write("/data/notes/a.txt", bytes("hello"))).toMatchObject({ ok: true, value: { kind: "file", size: 5 } });
    expect(await files.write("/data/notes/a.txt", bytes(" world"), { append: true })).toMatchObject({ ok: true, value: { size: 11 } });
    expect(text(((await files.read("/data/notes/a.txt")) as { value: Uint8Array }).value)).toBe("hello world");
    // Missing parents were made.
    expect(await files.stat("/data")).toMatchObject({ ok: true, value: { kind: "dir" } });
    expect(await files.readdir("/data/notes")).toEqual({ ok: true, value: [{ name: "a.txt", kind: "file" }] });
    expect(await files.rename("/data/notes", "/data/moved")).toEqual({ ok: true, value: null });
    expect(await files.readdir("/data")).toEqual({ ok: true, value: [{ name: "moved", kind: "dir" }] });
    expect(text(((await files.read("/data/moved/a.txt")) as { value: Uint8Array }).value)).toBe("hello world");
    expect(await files.read("/data/notes/a.txt")).toMatchObject({ ok: false, code: "ENOENT" });

    expect(await files.read("/data")).toMatchObject({ ok: false, code: "EISDIR" });
    expect(await files.write("/data/moved", bytes("x"))).toMatchObject({ ok: false, code: "EISDIR" });
    expect(await files.write("/data/moved/a.txt/x", bytes("x"))).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(await files.readdir("/data/moved/a.txt")).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(await files.mkdir("/data/moved")).toMatchObject({ ok: false, code: "EEXIST" });
    expect(await files.mkdir("/data/moved", { recursive: true })).toEqual({ ok: true, value: false });
    expect(await files.unlink("/data/moved")).toMatchObject({ ok: false, code: "EISDIR" });
    expect(await files.rm("/data/moved")).toMatchObject({ ok: false, code: "ENOTEMPTY" });
    expect(await files.rename("/data", "/data/moved/inside")).toMatchObject({ ok: false, code: "EINVAL" });
    await files.mkdir("/other/sub", { recursive: true });
    await files.write("/other/sub/f", bytes("f"));
    expect(await files.rename("/data/moved", "/other")).toMatchObject({ ok: false, code: "ENOTEMPTY" });
    expect(await files.rm("/data/moved", { recursive: true })).toEqual({ ok: true, value: null });
    expect(await files.readdir("/data")).toEqual({ ok: true, value: [] });
    // A file renamed over a file replaces it, as server-memory's write-then-rename does.
    await files.write("/other/sub/f.tmp", bytes("new"));
    expect(await files.rename("/other/sub/f.tmp", "/other/sub/f")).toEqual({ ok: true, value: null });
    expect(text(((await files.read("/other/sub/f")) as { value: Uint8Array }).value)).toBe("new");
    expect(await files.readdir("/other/sub")).toEqual({ ok: true, value: [{ name: "f", kind: "file" }] });
    expect(await files.unlink("/other/sub/f")).toEqual({ ok: true, value: null });
    expect(await files.stat("/other/sub/f")).toMatchObject({ ok: false, code: "ENOENT" });
    await files.write("/a/b/c/long-name.txt", bytes("x".repeat(3000)));
    await files.write("/a/b/c/long-name.txt", bytes("y"), { append: true });
    await files.rename("/a/b", "/a/bee-longer");
    await files.rename("/a/bee-longer/c/long-name.txt", "/s.txt");
    const { running, recounted } = await runningAndRecounted(t.tenant);
    expect(running).toEqual(recounted);
  });

  it("deployed:files untrusted:messages — arguments from the sandbox are checked: paths normalised and bounded, data bytes, options typed", async () => {
    const files = filesOf({ ...(await tenantWithFiles()), server: "app" });
    const refusals = [
      files.read("relative.txt"),
      files.read("/data/../etc/passwd"),
      files.read("/data//x"),
      files.read("/a\0b"),
      files.read(`/${"x".repeat(FILE_LIMITS.maxNameBytes + 1)}`),
      files.read(`/${"dir/".repeat(300)}x`),
      files.read(42 as unknown as string),
      files.write("/x", "not bytes" as unknown as Uint8Array),
      files.write("/x", bytes("x"), { append: "yes" } as unknown as { append: boolean }),
      files.write("/", bytes("x")),
      files.rm("/", { recursive: true }),
      files.snapshot(-1),
    ];
    for (const answer of await Promise.all(refusals)) expect(answer).toMatchObject({ ok: false, code: "EINVAL" });
    expect(await files.write("/big", new Uint8Array(FILE_LIMITS.maxFileBytes + 1))).toMatchObject({ ok: false, code: "EINVAL" });
  });

  it("deployed:files — a file larger than a SQLite value is stored in chunks; appends across a chunk boundary read back whole", async () => {
    const files = filesOf({ ...(await tenantWithFiles()), server: "app" });
    const chunk = FILE_LIMITS.chunkBytes;
    const first = new Uint8Array(chunk * 2 + 100).map((_, i) => i % 251);
    const more = new Uint8Array(chunk).map((_, i) => (i * 7) % 253);
    expect(await files.write("/blob.bin", first)).toMatchObject({ ok: true, value: { size: first.length } });
    expect(await files.write("/blob.bin", more, { append: true })).toMatchObject({ ok: true, value: { size: first.length + more.length } });
    const read = (await files.read("/blob.bin")) as { ok: true; value: Uint8Array };
    const expected = new Uint8Array(first.length + more.length);
    expected.set(first);
    expected.set(more, first.length);
    expect(read.value.length).toBe(expected.length);
    expect(Buffer.compare(Buffer.from(read.value), Buffer.from(expected))).toBe(0);
  });

  it("deployed:files platform:quotas — files count toward the tool-data quota; a write past it is ENOSPC and stores nothing; removal gives the bytes back", async () => {
    const t = await tenantWithFiles({ toolDataBytes: 4096 });
    const files = filesOf({ ...t, server: "app" });
    const utf8 = (s: string) => bytes(s).byteLength;
    // Independently of the platform's code: an entry 3 × (server + path) + 64, a chunk 2 × (server + path) + 72 + bytes.
    const entry = (p: string) => 3 * (utf8("app") + utf8(p)) + 64;
    const chunk = (p: string, n: number) => 2 * (utf8("app") + utf8(p)) + 72 + n;
    expect(await files.write("/d/a.txt", new Uint8Array(1000))).toMatchObject({ ok: true });
    const held = entry("/d") + entry("/d/a.txt") + chunk("/d/a.txt", 1000);
    expect(await usage(t.tenant)).toEqual({ bytes: held, rows: 3 });

    const refused = await files.write("/d/b.txt", new Uint8Array(4000));
    expect(refused).toEqual({
      ok: false,
      code: "ENOSPC",
      message: `no space left: this tenant may store 4096 bytes of tool data and files and holds ${held}; nothing was written`,
    });
    expect(await files.stat("/d/b.txt")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await files.write("/d/a.txt", new Uint8Array(4000), { append: true })).toMatchObject({ ok: false, code: "ENOSPC" });
    expect(await files.stat("/d/a.txt")).toMatchObject({ ok: true, value: { size: 1000 } });
    expect(await usage(t.tenant)).toEqual({ bytes: held, rows: 3 });

    expect(await files.rm("/d", { recursive: true })).toMatchObject({ ok: true });
    expect(await usage(t.tenant)).toEqual({ bytes: 0, rows: 0 });
    expect(await files.write("/d/b.txt", new Uint8Array(3000))).toMatchObject({ ok: true });
    // Recomputed from the tables when the running total is missing, files included.
    await runInDurableObject(tenantDO(t.tenant), (_i, state) => state.storage.kv.delete("toolDataUsage"));
    const recount = await files.write("/d/c.txt", new Uint8Array(1));
    expect(recount).toMatchObject({ ok: true });
    expect(await usage(t.tenant)).toEqual({ bytes: entry("/d") + entry("/d/b.txt") + chunk("/d/b.txt", 3000) + entry("/d/c.txt") + chunk("/d/c.txt", 1), rows: 5 });
  });

  it("deployed:files isolation:tenants — another server of the tenant, and another tenant's server of the same name, see nothing", async () => {
    const a = await tenantWithFiles();
    const b = await tenantWithFiles();
    await filesOf({ ...a, server: "app" }).write("/data/secret.txt", bytes("mine"));
    for (const other of [filesOf({ ...a, server: "other" }), filesOf({ ...b, server: "app" })]) {
      expect(await other.stat("/data/secret.txt")).toMatchObject({ ok: false, code: "ENOENT" });
      expect(await other.readdir("/")).toEqual({ ok: true, value: [] });
      expect(await other.snapshot()).toEqual({ ok: true, value: { entries: [], complete: true } });
    }
    // A binding minted for an earlier incarnation of the tenant reaches nothing.
    expect(await filesOf({ tenant: a.tenant, incarnation: "an-older-one", server: "app" }).read("/data/secret.txt")).toMatchObject({ ok: false, code: "EACCES" });
  });
});

// --- the shim, in Worker Loader isolates ---------------------------------------------------------

const PACKAGE_FILES = {
  "/app/package.json": '{"name":"demo"}',
  "/app/docs/guide.md": "# Guide",
  "/app/docs/other.md": "# Other",
};

/** A tenant's module as the bundler leaves it: it imports the shim as a relative module. */
const MAIN = `
import fs, { promises as fsp, readFileSync, existsSync, statSync, readdirSync, writeFileSync, mkdirSync, appendFileSync, __init, __flush } from "./${FS_MODULE}";
import * as fsPromises from "./${FS_PROMISES_MODULE}";

const attempt = async (f) => {
  try { return { value: await f() }; } catch (e) { return { error: { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path } }; }
};

const scenarios = {
  async write() {
    const r = {};
    await fsp.mkdir("/data/notes", { recursive: true });
    await fsp.writeFile("/data/notes/a.txt", "hello");
    await fsp.appendFile("/data/notes/a.txt", " world");
    r.a = await fsp.readFile("/data/notes/a.txt", "utf8");
    r.aSync = readFileSync("/data/notes/a.txt", "utf8");
    await fsp.writeFile("/data/notes/b.json", JSON.stringify({ n: 1 }));
    await fsp.rename("/data/notes/b.json", "/data/notes/c.json");
    r.dir = await fsp.readdir("/data/notes");
    r.dirSync = readdirSync("/data/notes");
    r.dirents = (await fsp.readdir("/data", { withFileTypes: true })).map((d) => [d.name, d.isDirectory()]);
    const st = await fsp.stat("/data/notes/a.txt");
    r.stat = { size: st.size, file: st.isFile(), dir: st.isDirectory(), syncSize: statSync("/data/notes/a.txt").size };
    await fsp.writeFile("/data/gone.txt", "x");
    await fsp.unlink("/data/gone.txt");
    r.gone = await attempt(() => fsp.readFile("/data/gone.txt"));
    r.goneSync = existsSync("/data/gone.txt");
    r.access = await attempt(() => fsp.access("/data/gone.txt"));
    await fsp.mkdir("/data/tree/deep", { recursive: true });
    await fsp.writeFile("/data/tree/deep/x", "x");
    r.rmNotRecursive = await attempt(() => fsp.rm("/data/tree"));
    r.rmdirNotEmpty = await attempt(() => fsp.rmdir("/data/tree"));
    await fsp.rm("/data/tree", { recursive: true });
    r.treeGone = !existsSync("/data/tree") && !(await attempt(() => fsp.stat("/data/tree"))).value;
    r.rmForce = await attempt(() => fsp.rm("/data/none", { force: true }));
    r.mkdirExists = await attempt(() => fsp.mkdir("/data/notes"));
    r.mkdirNoParent = await attempt(() => fsp.mkdir("/nope/deeper"));
    r.enoent = await attempt(() => fsp.readFile("/data/none.txt"));
    r.eisdir = await attempt(() => fsp.readFile("/data"));
    await fsp.writeFile("state.json", "{}");
    r.relative = existsSync("/app/state.json");
    r.url = await fsp.readFile(new URL("file:///data/notes/a.txt"), "utf8");
    await fsp.writeFile("/tmp/scratch.txt", "tmp");
    writeFileSync("/tmp/sync.txt", "s");
    r.tmp = readFileSync("/tmp/scratch.txt", "utf8") + (await fsp.readFile("/tmp/sync.txt", "utf8"));
    mkdirSync("/data/sync", { recursive: true });
    writeFileSync("/data/sync/s.txt", "sync");
    appendFileSync("/data/sync/s.txt", "!");
    r.syncWrite = readFileSync("/data/sync/s.txt", "utf8");
    r.pkg = readFileSync("docs/guide.md", "utf8");
    r.pkgAsync = await fsp.readFile("/app/docs/guide.md", "utf8");
    r.pkgList = readdirSync("/app");
    r.pkgListAsync = await fsp.readdir("/app/docs");
    await fsp.writeFile("/app/docs/guide.md", "# Changed");
    r.overlay = (await fsp.readFile("/app/docs/guide.md", "utf8")) + "|" + readFileSync("/app/docs/guide.md", "utf8");
    r.unlinkPkg = await attempt(() => fsp.unlink("/app/docs/other.md"));
    r.sameApi = fsPromises.readFile === fsp.readFile && fs.promises === fsp && fsPromises.default === fsp;
    r.cb = await new Promise((res) => fs.readFile("/data/notes/a.txt", "utf8", (err, data) => res(err ? err.code : data)));
    r.cbErr = await new Promise((res) => fs.stat("/data/none", (err) => res(err && err.code)));
    const handle = await fsp.open("/data/log.txt", "a");
    await handle.write("one\\n");
    await handle.write("two\\n");
    await handle.close();
    r.handle = await fsp.readFile("/data/log.txt", "utf8");
    return r;
  },
  async read() {
    return {
      a: readFileSync("/data/notes/a.txt", "utf8"),
      list: readdirSync("/data/notes"),
      sync: readFileSync("/data/sync/s.txt", "utf8"),
      tmp: existsSync("/tmp/scratch.txt") || existsSync("/tmp/sync.txt"),
      tmpDir: existsSync("/tmp"),
      overlay: readFileSync("/app/docs/guide.md", "utf8"),
      other: readFileSync("/app/docs/other.md", "utf8"),
      relative: existsSync("state.json"),
      root: readdirSync("/"),
      log: await fsp.readFile("/data/log.txt", "utf8"),
    };
  },
  async more() {
    const r = {};
    await fsp.writeFile("/tmp/t.txt", "from tmp");
    await fsp.rename("/tmp/t.txt", "/data/from-tmp.txt");
    r.fromTmp = readFileSync("/data/from-tmp.txt", "utf8") + "|" + existsSync("/tmp/t.txt");
    await fsp.copyFile("/app/docs/guide.md", "/data/copy.md");
    r.copy = await fsp.readFile("/data/copy.md", "utf8");
    r.copyExcl = await attempt(() => fsp.copyFile("/app/docs/guide.md", "/data/copy.md", fs.constants.COPYFILE_EXCL));
    r.wx = await attempt(() => fsp.writeFile("/data/copy.md", "x", { flag: "wx" }));
    await fsp.appendFile("/app/package.json", "\\n");
    appendFileSync("/app/docs/other.md", "!");
    r.appendPkg = JSON.stringify(await fsp.readFile("/app/package.json", "utf8")) + readFileSync("/app/docs/other.md", "utf8");
    r.renamePkg = await attempt(() => fsp.rename("/app/docs/guide.md", "/data/g.md"));
    r.rmPkg = await attempt(() => fsp.rm("/app/docs", { recursive: true }));
    r.mkdirSyncNoParent = await attempt(() => mkdirSync("/none/x"));
    writeFileSync("/data/s1.txt", "one");
    fs.renameSync("/data/s1.txt", "/data/s2.txt");
    writeFileSync("/data/s3.txt", "three");
    fs.unlinkSync("/data/s3.txt");
    r.syncOps = [existsSync("/data/s1.txt"), readFileSync("/data/s2.txt", "utf8"), existsSync("/data/s3.txt")];
    r.merged = readdirSync("/app/docs");
    r.bytes = [...(await fsp.readFile("/data/from-tmp.txt")).subarray(0, 4)];
    return r;
  },
  async moreRead() {
    return {
      files: readdirSync("/data").sort(),
      pkg: readFileSync("/app/package.json", "utf8") + readFileSync("/app/docs/other.md", "utf8"),
      s2: await fsp.readFile("/data/s2.txt", "utf8"),
    };
  },
  async partial() {
    return {
      small: readFileSync("/data/s2.txt", "utf8"),
      large: await attempt(() => readFileSync("/data/notes/a.txt", "utf8")),
      largeAsync: await fsp.readFile("/data/notes/a.txt", "utf8"),
      largeSync: readFileSync("/data/notes/a.txt", "utf8"),
    };
  },
  async fresh() {
    return { root: readdirSync("/"), data: existsSync("/data"), guide: await fsp.readFile("/app/docs/guide.md", "utf8") };
  },
  async big() {
    return {
      async: await attempt(() => fsp.writeFile("/data/big.bin", new Uint8Array(8000))),
      asyncAfter: existsSync("/data/big.bin"),
    };
  },
  async bigSync() {
    writeFileSync("/data/big-sync.bin", new Uint8Array(8000));
    const before = existsSync("/data/big-sync.bin");
    await __flush();
    return { before, after: existsSync("/data/big-sync.bin") };
  },
};

let ready;
export default {
  async fetch(request, env) {
    ready ??= __init({ files: env.FILES, packageFiles: env.PACKAGE, root: "/app", snapshotBytes: env.SNAPSHOT_BYTES });
    await ready;
    const result = await scenarios[new URL(request.url).pathname.slice(1)]();
    await __flush();
    return Response.json(result);
  },
};
`;

/** Runs `scenario` in a fresh isolate of the server's files (each call: a new instance, as a new session gets). */
async function inIsolate(props: FilesProps, scenario: string, snapshotBytes?: number): Promise<any> {
  const worker = env.LOADER.get(uniqueName("fs-isolate"), async () => ({
    compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
    compatibilityFlags: ["nodejs_compat"],
    mainModule: "main.js",
    modules: { "main.js": MAIN, [FS_MODULE]: FS_SOURCE, [FS_PROMISES_MODULE]: FS_PROMISES_SOURCE },
    env: { FILES: filesOf(props), PACKAGE: PACKAGE_FILES, SNAPSHOT_BYTES: snapshotBytes },
    globalOutbound: null,
  }));
  const res = await worker.getEntrypoint().fetch(`https://sandbox.test/${scenario}`);
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return JSON.parse(body);
}

describe("the fs shim in a sandbox isolate", () => {
  it("deployed:files — Node's fs API over the persisted tree, /tmp and the package files; a second instance sees the files, not the /tmp", async () => {
    const props = { ...(await tenantWithFiles()), server: "app" };
    const first = await inIsolate(props, "write");
    const enoent = (path: string, syscall = "open") => ({ error: { code: "ENOENT", errno: -2, syscall, path } });
    expect(first).toEqual({
      a: "hello world",
      aSync: "hello world",
      dir: ["a.txt", "c.json"],
      dirSync: ["a.txt", "c.json"],
      dirents: [["notes", true]],
      stat: { size: 11, file: true, dir: false, syncSize: 11 },
      gone: enoent("/data/gone.txt"),
      goneSync: false,
      access: enoent("/data/gone.txt", "access"),
      rmNotRecursive: { error: { code: "ERR_FS_EISDIR", errno: -21, syscall: "rm", path: "/data/tree" } },
      rmdirNotEmpty: { error: { code: "ENOTEMPTY", errno: -39, syscall: "rmdir", path: "/data/tree" } },
      treeGone: true,
      rmForce: {},
      mkdirExists: { error: { code: "EEXIST", errno: -17, syscall: "mkdir", path: "/data/notes" } },
      mkdirNoParent: enoent("/nope/deeper", "mkdir"),
      enoent: enoent("/data/none.txt"),
      eisdir: { error: { code: "EISDIR", errno: -21, syscall: "read", path: "/data" } },
      relative: true,
      url: "hello world",
      tmp: "tmps",
      syncWrite: "sync!",
      pkg: "# Guide",
      pkgAsync: "# Guide",
      pkgList: ["docs", "package.json", "state.json"],
      pkgListAsync: ["guide.md", "other.md"],
      overlay: "# Changed|# Changed",
      unlinkPkg: { error: { code: "EPERM", errno: -1, syscall: "unlink", path: "/app/docs/other.md" } },
      sameApi: true,
      cb: "hello world",
      cbErr: "ENOENT",
      handle: "one\ntwo\n",
    });

    const second = await inIsolate(props, "read");
    expect(second).toEqual({
      a: "hello world",
      list: ["a.txt", "c.json"],
      sync: "sync!",
      tmp: false,
      tmpDir: true,
      overlay: "# Changed",
      other: "# Other",
      relative: true,
      root: ["app", "data", "tmp"],
      log: "one\ntwo\n",
    });

    expect(await inIsolate(props, "more")).toEqual({
      fromTmp: "from tmp|false",
      copy: "# Changed",
      copyExcl: { error: { code: "EEXIST", errno: -17, syscall: "open", path: "/data/copy.md" } },
      wx: { error: { code: "EEXIST", errno: -17, syscall: "open", path: "/data/copy.md" } },
      appendPkg: JSON.stringify('{"name":"demo"}\n') + "# Other!",
      renamePkg: { error: { code: "EPERM", errno: -1, syscall: "rename", path: "/app/docs/guide.md" } },
      rmPkg: { error: { code: "EPERM", errno: -1, syscall: "rm", path: "/app/docs" } },
      mkdirSyncNoParent: enoent("/none/x", "mkdir"),
      syncOps: [false, "one", false],
      merged: ["guide.md", "other.md"],
      bytes: [...new TextEncoder().encode("from")],
    });
    expect(await inIsolate(props, "moreRead")).toEqual({
      files: ["copy.md", "from-tmp.txt", "log.txt", "notes", "s2.txt", "sync"],
      pkg: '{"name":"demo"}\n# Other!',
      s2: "one",
    });

    // A snapshot of 5 bytes carries the files that fit, in path order (/app/state.json,
    // then /data/s2.txt): a larger one is read asynchronously, and from then on synchronously too.
    expect(await inIsolate(props, "partial", 5)).toEqual({
      small: "one",
      large: { error: { code: "EIO", errno: -5, syscall: "read", path: "/data/notes/a.txt" } },
      largeAsync: "hello world",
      largeSync: "hello world",
    });

    // Another server of the tenant starts from the package alone.
    expect(await inIsolate({ ...props, server: "other" }, "fresh")).toEqual({ root: ["app", "tmp"], data: false, guide: "# Guide" });
  });

  it("deployed:files platform:quotas — past the quota, writeFile rejects with ENOSPC and a synchronous write is taken back at flush; nothing is stored", async () => {
    const t = await tenantWithFiles({ toolDataBytes: 4096 });
    const props = { ...t, server: "app" };
    expect(await inIsolate(props, "big")).toEqual({
      async: { error: { code: "ENOSPC", errno: -28, syscall: "open", path: "/data/big.bin" } },
      asyncAfter: false,
    });
    expect(await inIsolate(props, "bigSync")).toEqual({ before: true, after: false });
    const files = filesOf(props);
    expect(await files.stat("/data/big.bin")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await files.stat("/data/big-sync.bin")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await usage(t.tenant)).toEqual({ bytes: 0, rows: 0 });
  });
});

// --- deleting a server's data ---------------------------------------------------------------------

describe("DELETE /tenants/{t}/servers/{s}?purge=true", () => {
  it("deployed:files — disabling keeps a server's files; purging removes its files, tool data, secrets and versions, and a repeat changes nothing", async () => {
    const t = await tenantWithFiles();
    const server = "app";
    const deployed = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/${server}/deployments`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
      body: converterSource,
    });
    expect(deployed.status, await deployed.text()).toBe(201);
    const secret = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/${server}/secrets/API_TOKEN`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: "s3cret",
    });
    expect(secret.status, await secret.text()).toBeLessThan(300);
    const files = filesOf({ ...t, server });
    await files.write("/data/kept.txt", bytes("kept"));
    await filesOf({ ...t, server: "neighbour" }).write("/data/n.txt", bytes("n"));

    expect(await adminOk("DELETE", `/tenants/${t.tenant}/servers/${server}`)).toEqual({ server, enabled: false });
    expect(await files.stat("/data/kept.txt")).toMatchObject({ ok: true });

    const purged = await adminOk("DELETE", `/tenants/${t.tenant}/servers/${server}?purge=true`);
    expect(purged).toEqual({ server, enabled: false, purged: true, removed: { files: 1, toolData: 0, secrets: 1, versions: 1 }, sessionsEnded: 0 });
    expect(await files.stat("/data/kept.txt")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await files.readdir("/")).toEqual({ ok: true, value: [] });
    expect(await filesOf({ ...t, server: "neighbour" }).stat("/data/n.txt")).toMatchObject({ ok: true });
    expect(await adminOk("GET", `/tenants/${t.tenant}/servers/${server}/deployments`)).toMatchObject({ deployments: [] });
    expect(await adminOk("GET", `/tenants/${t.tenant}/servers/${server}/secrets`)).toMatchObject({ secrets: [] });
    expect((await usage(t.tenant)).rows).toBe(3); // the neighbour's /data, its file and its one chunk

    expect(await adminOk("DELETE", `/tenants/${t.tenant}/servers/${server}?purge=true`)).toMatchObject({ removed: { files: 0, toolData: 0, secrets: 0, versions: 0 } });
    const bad = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/${server}?purge=yes`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bad.status).toBe(400);
  });

  it("deployed:files admin:tenants — deleting the tenant removes its servers' files with everything else", async () => {
    const t = await tenantWithFiles();
    await filesOf({ ...t, server: "app" }).write("/data/x.txt", bytes("x"));
    expect(await adminOk("DELETE", `/tenants/${t.tenant}`)).toMatchObject({ deleted: t.tenant });
    expect(await storageOf(tenantDO(t.tenant))).toEqual(EMPTY_STORAGE);
  });

  it("deployed:files platform:redrive — a session that does not end stops the purge with 503 before anything is removed; DELETE again finishes it", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "fs", servers: ["notes"] });
    const props = { tenant, incarnation: await rememberIncarnation(tenant), server: "notes" };
    // A binding per use: after the hold, this test runs in the held session's I/O context.
    await filesOf(props).write("/data/kept.txt", bytes("kept"));
    const healthy = await openSession(mcpUrl(tenant, "notes"), key);
    const stuck = await openSession(mcpUrl(tenant, "notes"), key);
    const hold = await holdSession(tenant, "notes", stuck.sessionId);

    const res = await admin("DELETE", `/tenants/${tenant}/servers/notes?purge=true`);
    const body = await res.text();
    expect(res.status, body).toBe(503);
    expect(JSON.parse(body).error).toMatchObject({ code: "server_purge_incomplete" });
    expect(JSON.parse(body).error.message).toContain(stuck.sessionId);
    // Half-way: the server is disabled and the healthy session ended, but nothing is removed.
    expect((await adminOk("GET", `/tenants/${tenant}/servers`)).servers).toEqual([]);
    expect(await storageOf(sessionStub(tenant, "notes", healthy.sessionId))).toEqual(EMPTY_STORAGE);
    expect(await filesOf(props).stat("/data/kept.txt")).toMatchObject({ ok: true });

    hold.release();
    expect(await adminOk("DELETE", `/tenants/${tenant}/servers/notes?purge=true`)).toMatchObject({ purged: true, removed: { files: 1 }, sessionsEnded: 1 });
    expect(await storageOf(sessionStub(tenant, "notes", stuck.sessionId))).toEqual(EMPTY_STORAGE);
    expect(await filesOf(props).stat("/data/kept.txt")).toMatchObject({ ok: false, code: "ENOENT" });
  });
});

