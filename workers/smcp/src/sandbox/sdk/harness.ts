/**
 * The in-sandbox side of a deployed SDK server: the modules the platform loads next
 * to the tenant's bundle (`tenant.js`) in the session's own isolate.
 *
 * - `sdk-harness.js` (main): the `Instance` entrypoint. The session object calls
 *   `open(host)` once per instance and that call stays open for the instance's life:
 *   its context is what keeps the server's timers and pending work alive. Inside it
 *   the harness prepares `process` (argv, cwd, harmless `exit` and signal handlers),
 *   captures the console, initialises the persistent files, evaluates the tenant's
 *   module (a stdio server's main connects a transport; a factory is called and its
 *   server connected), then pulls client messages with `host.next()` and hands each to
 *   the server's transport.
 * - `__smcp/stdio.js`: what the bundler puts in place of the SDK's stdio transport (v1
 *   and v2): a transport whose messages go through the harness instead of stdin/stdout.
 * - `__smcp/boot.json`: the deployment's kind, argv, root, config and package files.
 *
 * Like the module-format harness, all of this runs beside untrusted code and is itself
 * untrusted: the tenant can rewrite any global it uses. The boundary is the isolate,
 * the bindings it was given, and the platform's checks on every message it sends back
 * (sdk/instance.ts). Messages cross as JSON text, never as objects.
 */

import { EGRESS_FETCH_SOURCE } from "../harness";

export const SDK_HARNESS_MODULE = "sdk-harness.js";
export const STDIO_MODULE = "__smcp/stdio.js";
export const BOOT_MODULE = "__smcp/boot.json";

/** How long a server's start may take before it connects its transport. */
export const START_TIMEOUT_MS = 15_000;

export const STDIO_SOURCE = `
const CHANNEL = Symbol.for("smcp.channel");
const channel = () => {
  const c = globalThis[CHANNEL];
  if (!c) throw new Error("SMCP: the stdio transport works only inside the platform's harness");
  return c;
};

/** Takes the place of the SDK's StdioServerTransport: messages go through SMCP's session, not stdin/stdout. */
export class StdioServerTransport {
  constructor() {
    this._started = false;
    this._closed = false;
  }
  async start() {
    if (this._started) throw new Error("StdioServerTransport already started! If using Server class, note that connect() calls start() automatically.");
    this._started = true;
    channel().attach(this);
  }
  async send(message, options) {
    if (this._closed) return;
    await channel().send(message, options);
  }
  async close() {
    if (this._closed) return;
    this._closed = true;
    channel().detach(this);
    this.onclose?.();
  }
}

/**
 * SDK v2's helper, on the same transport: the factory is asked for a 2025-era instance (the
 * platform opens the instance with initialize, at a 2025 revision), or for a modern one on
 * an instance that runs a task's round (then bound to that revision, as the SDK's own
 * serveStdio binds it); a transport the server passes (for example one wrapping ours to
 * observe it) is the one connected.
 */
export function serveStdio(factory, options) {
  const transport = options?.transport ?? new StdioServerTransport();
  let server;
  const ready = (async () => {
    const c = channel();
    server = typeof factory === "function" ? await factory({ era: c.revision ? "modern" : "legacy" }) : factory;
    if (c.revision) c.servedModern = c.markModern(server);
    await server.connect(transport);
  })();
  ready.catch((err) => options?.onerror?.(err));
  return { close: async () => { await ready.catch(() => {}); await server?.close?.(); }, transport };
}

export default { StdioServerTransport, serveStdio };
`;

export const SDK_HARNESS_SOURCE = `
import * as cloudflareWorkers from "cloudflare:workers";
import boot from "./${BOOT_MODULE}";
import * as files from "./__smcp/fs.js";
import * as filePromises from "./__smcp/fs-promises.js";
import * as stdio from "./${STDIO_MODULE}";

const CHANNEL = Symbol.for("smcp.channel");
const START_TIMEOUT_MS = ${START_TIMEOUT_MS};
const MAX_LINE = 2000;
const SIGNALS = new Set(["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGBREAK", "SIGUSR1", "SIGUSR2", "beforeExit", "exit"]);

${EGRESS_FETCH_SOURCE}

const messageOf = (err) => (err instanceof Error ? err.message : String(err)).slice(0, MAX_LINE);
const text = (parts) => parts.map((p) => (typeof p === "string" ? p : p instanceof Error ? (p.stack ?? p.message) : safeJson(p))).join(" ").slice(0, MAX_LINE);
const safeJson = (v) => { try { return JSON.stringify(v) ?? String(v); } catch { return String(v); } };

function decodeFiles(entries) {
  const out = {};
  for (const [path, entry] of Object.entries(entries ?? {})) {
    if (typeof entry?.text === "string") out[path] = entry.text;
    else if (typeof entry?.base64 === "string") out[path] = Uint8Array.from(atob(entry.base64), (c) => c.charCodeAt(0));
  }
  return out;
}

/** A module the runtime does not have: loads, and throws on first use with the reason. */
function unavailable(name, err) {
  const fail = () => { throw new Error("SMCP: " + name + " is not available in a sandbox (" + messageOf(err) + ")"); };
  return new Proxy({}, {
    get: (_, key) => (key === "__esModule" || key === "then" || typeof key === "symbol" ? undefined : fail),
    ownKeys: () => [],
  });
}

/** A POSIX path from a path or file: URL (string or URL), resolved against dir when relative. */
function pathOf(ref, dir) {
  let p = String(ref instanceof URL ? ref.href : ref);
  if (p.startsWith("file://")) p = decodeURIComponent(new URL(p).pathname);
  if (!p.startsWith("/")) p = (dir ?? boot.root) + "/" + p;
  const out = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/**
 * node:module with a createRequire whose require() reads a .json file by path from the
 * deployment's files (where package.json travels), as Node's does: servers read their
 * version that way (createRequire(import.meta.url)("../package.json")). fs and
 * fs/promises are the platform's files; anything else is asked of workerd's require.
 */
function withFileRequire(mod) {
  const original = mod?.createRequire ?? mod?.default?.createRequire;
  if (typeof original !== "function") return mod;
  const swapped = { fs: files, "node:fs": files, "fs/promises": filePromises, "node:fs/promises": filePromises };
  const createRequire = (from) => {
    const dir = pathOf(from).replace(/\\/[^/]*$/, "") || "/";
    let inner = null;
    const fallback = (id) => (inner ??= original(from))(id);
    const require = (id) => {
      if (typeof id !== "string") return fallback(id);
      if (Object.hasOwn(swapped, id)) return swapped[id].default ?? swapped[id];
      if (/\\.json$/.test(id) && /^(\\/|\\.\\.?\\/|file:)/.test(id)) return JSON.parse(files.readFileSync(pathOf(id, dir), "utf8"));
      return fallback(id);
    };
    require.resolve = (id) => (typeof id === "string" && /^(\\/|\\.\\.?\\/|file:)/.test(id) ? pathOf(id, dir) : (inner ??= original(from)).resolve(id));
    require.cache = Object.create(null);
    return require;
  };
  // The default export (what require("module") answers) is workerd's Module, a function:
  // the same object, with only createRequire answered differently.
  const base = mod.default;
  const wrapped = base !== null && (typeof base === "object" || typeof base === "function")
    ? new Proxy(base, { get: (target, key, receiver) => (key === "createRequire" ? createRequire : Reflect.get(target, key, receiver)) })
    : base;
  return { ...mod, createRequire, default: wrapped };
}

/** What the bundle's require() answers: the platform's substitutes, and the Node built-ins it named, loaded now. */
async function requireFor(builtins) {
  const registry = new Map([
    ["smcp:stdio", stdio],
    ["smcp:fs", files],
    ["smcp:fs/promises", filePromises],
    ["cloudflare:workers", cloudflareWorkers],
    // Raw TCP would go around the egress allow-list, which checks HTTP requests by host.
    ["cloudflare:sockets", unavailable("cloudflare:sockets", new Error("raw TCP sockets are not given to deployed servers; only HTTP(S) fetches to hosts on the server's egress allow-list"))],
  ]);
  await Promise.all(builtins.filter((n) => typeof n === "string" && n.startsWith("node:")).map(async (name) => {
    try {
      const mod = await import(name);
      registry.set(name, name === "node:module" ? withFileRequire(mod) : mod);
    } catch (err) { registry.set(name, unavailable(name, err)); }
  }));
  return (name) => {
    const m = registry.get(name);
    if (!m) throw new Error("SMCP: the bundle requires " + name + ", which it did not declare");
    return m;
  };
}

function prepareProcess(host) {
  process.argv = ["node", boot.root + "/" + (boot.entry ?? "index.js"), ...(boot.argv ?? [])];
  process.cwd = () => boot.root;
  process.chdir = () => {};
  // A stdio server exits when it is done or broken; here the instance ends and the session rebuilds it.
  process.exit = (code) => { host.exit(Number(code ?? process.exitCode ?? 0) || 0).catch(() => {}); };
  process.abort = () => process.exit(134);
  if (typeof process.on === "function") {
    for (const name of ["on", "once", "addListener", "prependListener"]) {
      const original = process[name];
      process[name] = function (event, listener) {
        // No signal ever reaches an instance: its end is the session's, not the process's.
        if (SIGNALS.has(event)) return process;
        return original.call(this, event, listener);
      };
    }
  }
}

function captureConsole(host) {
  const levels = { debug: "debug", log: "info", info: "info", warn: "warning", error: "error", trace: "debug" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...parts) => { host.console(level, text(parts)).catch(() => {}); };
  }
}

/**
 * Binds an SDK v2 server (McpServer or Server) to the 2026-07-28-era revision a task's round
 * is served on, as the SDK's own serving entries (createMcpHandler, serveStdio) do: its
 * era is instance state, set before it connects, and there is no public setter. Like
 * those entries it adds the revision to the instance's supported ones. Only a server
 * whose SDK serves input_required results (SDK v2 2.4 and later have the seam below);
 * true when bound.
 */
function markModern(product) {
  const core = product && typeof product === "object" && product.server && typeof product.server === "object" ? product.server : product;
  const supported = core?._supportedProtocolVersions;
  if (!boot.revision || !Array.isArray(supported) || typeof core._invokeInputRequiredCapableHandler !== "function") return false;
  if (!supported.includes(boot.revision)) core._supportedProtocolVersions = [...supported, boot.revision];
  core._negotiatedProtocolVersion = boot.revision;
  return true;
}

async function start(host) {
  let attach;
  const attached = new Promise((resolve) => (attach = resolve));
  let transport = null;
  globalThis[CHANNEL] = {
    revision: boot.revision ?? null,
    servedModern: false,
    markModern,
    attach(t) { transport = t; attach(t); },
    detach(t) { if (transport === t) { transport = null; host.closed().catch(() => {}); } },
    async send(message, options) {
      // A write the server made is stored before the answer that follows it leaves.
      await files.__flush?.();
      await host.send(JSON.stringify(message), options?.relatedRequestId ?? null);
    },
  };
  // The bundle is one function: its top level runs here, in the instance's request context,
  // where timers, random values and I/O are allowed (a module's own top level is global scope).
  const main = (await import("./tenant.js")).default;
  if (typeof main !== "function") throw new Error("the bundle is not an SMCP SDK bundle (its default export must be the wrapped module)");
  const module = await main(await requireFor(boot.builtins ?? []));
  if (boot.kind === "factory") {
    const create = typeof module.createServer === "function" ? module.createServer : module.default;
    if (typeof create !== "function") throw new Error("the module exports no createServer({ config, env }) function");
    let server = await create({ config: boot.config ?? {}, env: { ...process.env } });
    if (server && typeof server.connect !== "function" && server.server) server = server.server;
    if (!server || typeof server.connect !== "function") throw new Error("createServer() did not return an MCP server (an object with connect())");
    if (boot.revision) globalThis[CHANNEL].servedModern = markModern(server);
    await server.connect(new stdio.StdioServerTransport());
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("the server did not connect its stdio transport within " + START_TIMEOUT_MS / 1000 + " s of starting")), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([attached, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return () => transport;
}

export class Instance extends cloudflareWorkers.WorkerEntrypoint {
  async open(host) {
    prepareProcess(host);
    captureConsole(host);
    let current;
    try {
      await files.__init?.({ files: this.env.FILES, packageFiles: decodeFiles(boot.files), root: boot.root });
      current = await start(host);
    } catch (err) {
      await host.failed(messageOf(err));
      return;
    }
    await host.ready(globalThis[CHANNEL].servedModern ? boot.revision : null);
    for (;;) {
      const batch = await host.next();
      if (batch === null) break;
      for (const line of batch) {
        const t = current();
        if (!t) continue;
        try {
          t.onmessage?.(JSON.parse(line));
        } catch (err) {
          console.error("SMCP: the server's transport threw on a message:", messageOf(err));
        }
      }
    }
    await current()?.close?.().catch(() => {});
  }
}

export default { fetch: () => new Response("not found", { status: 404 }) };
`;
