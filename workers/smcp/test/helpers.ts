/**
 * Helpers for the workerd integration tests: the admin API and raw MCP requests,
 * all through `SELF` (the Worker's own fetch handler, inside workerd), plus an SSE
 * reader. Raw requests on purpose: these tests check status codes, headers and event
 * ids, which an SDK client would hide.
 */
import { SELF, env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { platformConfig } from "@smcp/runtime";
import { reportShardName } from "../src/tenant/report-batch";
import { sessionObjectName } from "@smcp/runtime";
import { listenBusStub, tenantStub } from "../src/env";
import type { TenantConfig } from "../src/tenant/types";
import { expect, vi } from "vitest";

export const ORIGIN = "https://smcp.test";
export const ADMIN_TOKEN = "test-admin-token";
export const SESSION_REVISION = "2025-11-25";
export const STATELESS_REVISION = "2026-07-28";
/** Matches SMCP_EVENT_LOG_MAX_EVENTS and SMCP_MAX_BODY_BYTES in vitest.config.ts. */
export const MAX_EVENTS = 20;
export const MAX_BODY_BYTES = 16384;

const CLIENT_INFO = { name: "smcp-workerd-tests", version: "1.0.0" };

// --- names -------------------------------------------------------------------

/** A tenant id no other test uses, so tests never share state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

// --- admin API -----------------------------------------------------------------

export function admin(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return SELF.fetch(`${ORIGIN}/admin/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An admin call that must succeed with `status`; returns its JSON body. */
export async function adminOk<T = any>(method: string, path: string, body?: unknown, status = 200): Promise<T> {
  const res = await admin(method, path, body);
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBe(status);
  return JSON.parse(text) as T;
}

export interface Tenant {
  tenant: string;
  /** The tenant's first API key (null for `auth: "none"`). */
  key: string | null;
  keyId: string | null;
}

/** Creates a tenant with one key and the given servers enabled. */
export async function provisionTenant(
  options: { prefix?: string; auth?: "key" | "none"; servers?: string[] } = {},
): Promise<Tenant> {
  const tenant = uniqueName(options.prefix ?? "t");
  const auth = options.auth ?? "key";
  await adminOk("POST", "/tenants", { id: tenant, auth }, 201);
  for (const server of options.servers ?? ["notes", "everything"]) {
    await adminOk("PUT", `/tenants/${tenant}/servers/${server}`, undefined, 201);
  }
  await rememberIncarnation(tenant);
  if (auth === "none") return { tenant, key: null, keyId: null };
  const created = await adminOk<{ id: string; key: string }>("POST", `/tenants/${tenant}/keys`, { label: "tests" }, 201);
  return { tenant, key: created.key, keyId: created.id };
}

export async function newKey(tenant: string): Promise<{ id: string; key: string }> {
  return adminOk("POST", `/tenants/${tenant}/keys`, { label: "extra" }, 201);
}

export async function listSessions(tenant: string): Promise<{ id: string; server: string; keyId: string | null }[]> {
  return (await adminOk<{ sessions: { id: string; server: string; keyId: string | null }[] }>("GET", `/tenants/${tenant}/sessions`))
    .sessions;
}

// --- raw MCP requests --------------------------------------------------------------

export const mcpUrl = (tenant: string, server: string) => `${ORIGIN}/mcp/${tenant}/${server}`;

export interface McpRequestInit {
  method?: "POST" | "GET" | "DELETE";
  key?: string | null;
  sessionId?: string;
  protocolVersion?: string | null;
  /** A value to send as JSON, or a string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One raw request to `/mcp/{tenant}/{server}` with the headers a 2025 client sends. */
export function mcpFetch(url: string, init: McpRequestInit = {}): Promise<Response> {
  const method = init.method ?? "POST";
  const headers: Record<string, string> = {
    Accept: method === "POST" ? "application/json, text/event-stream" : "text/event-stream",
  };
  if (method === "POST") headers["Content-Type"] = "application/json";
  if (init.key) headers.Authorization = `Bearer ${init.key}`;
  if (init.sessionId) headers["Mcp-Session-Id"] = init.sessionId;
  if (init.protocolVersion) headers["MCP-Protocol-Version"] = init.protocolVersion;
  Object.assign(headers, init.headers);
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  return SELF.fetch(url, { method, headers, body });
}

let nextId = 1;
export const rpc = (method: string, params?: unknown) => ({ jsonrpc: "2.0", id: nextId++, method, ...(params === undefined ? {} : { params }) });
export const notification = (method: string, params?: unknown) => ({ jsonrpc: "2.0", method, ...(params === undefined ? {} : { params }) });

export const initializeParams = (protocolVersion: string) => ({ protocolVersion, capabilities: {}, clientInfo: CLIENT_INFO });

export interface Session {
  url: string;
  key: string | null;
  sessionId: string;
  protocolVersion: string;
  /** The SSE events of the `initialize` response. */
  initEvents: SseEvent[];
}

/** `initialize` + `notifications/initialized`: a ready session of the session lane. */
export async function openSession(url: string, key: string | null, protocolVersion = SESSION_REVISION): Promise<Session> {
  const res = await mcpFetch(url, { key, body: rpc("initialize", initializeParams(protocolVersion)) });
  expect(res.status).toBe(200);
  const sessionId = res.headers.get("mcp-session-id");
  expect(sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  const initEvents = await readAllEvents(res);
  await rememberIncarnation(new URL(url).pathname.split("/")[2]!);
  expect(messagesOf(initEvents).at(-1).result.protocolVersion).toBe(protocolVersion);
  const session = { url, key, sessionId: sessionId!, protocolVersion, initEvents };
  const ack = await send(session, notification("notifications/initialized"));
  expect(ack.status).toBe(202);
  await ack.body?.cancel();
  return session;
}

/** A request within a session. */
export function send(session: Session, body: unknown, init: Omit<McpRequestInit, "body" | "key" | "sessionId"> = {}): Promise<Response> {
  return mcpFetch(session.url, {
    key: session.key,
    sessionId: session.sessionId,
    protocolVersion: session.protocolVersion,
    body,
    ...init,
  });
}

/** The JSON-RPC response to a request within a session, whether it came as JSON or SSE. */
export async function request(session: Session, method: string, params?: unknown): Promise<any> {
  const res = await send(session, rpc(method, params));
  expect(res.status).toBe(200);
  return responseMessage(res);
}

export async function callTool(session: Session, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const message = await request(session, "tools/call", { name, arguments: args });
  expect(message.error, JSON.stringify(message.error)).toBeUndefined();
  return message.result;
}

/** `GET` on the endpoint: the standalone stream, or a resumed one with `Last-Event-ID`. */
export function openStream(session: Session, lastEventId?: string): Promise<Response> {
  return send(session, undefined, { method: "GET", headers: lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId } });
}

// --- the stateless lane (2026-07-28) ------------------------------------------------

/** The `_meta` envelope every 2026-07-28 request carries. */
export const statelessMeta = (revision = STATELESS_REVISION) => ({
  "io.modelcontextprotocol/protocolVersion": revision,
  "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
  "io.modelcontextprotocol/clientCapabilities": {},
});

/** Which body field the `Mcp-Name` header mirrors, per method (SEP-2243). */
const MCP_NAME_SOURCE: Record<string, string> = { "tools/call": "name", "prompts/get": "name", "resources/read": "uri" };

/** One self-contained 2026-07-28 request: standard headers, `_meta` envelope, no session. */
export function statelessFetch(url: string, key: string | null, method: string, params: Record<string, unknown> = {}): Promise<Response> {
  const headers: Record<string, string> = { "MCP-Protocol-Version": STATELESS_REVISION, "Mcp-Method": method };
  const nameField = MCP_NAME_SOURCE[method];
  if (nameField && typeof params[nameField] === "string") headers["Mcp-Name"] = params[nameField] as string;
  return mcpFetch(url, { key, headers, body: rpc(method, { ...params, _meta: statelessMeta() }) });
}

export async function statelessTool(url: string, key: string | null, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const res = await statelessFetch(url, key, "tools/call", { name, arguments: args });
  expect(res.status).toBe(200);
  expect(res.headers.get("mcp-session-id")).toBeNull();
  const message = await responseMessage(res);
  expect(message.error, JSON.stringify(message.error)).toBeUndefined();
  return message.result;
}

/** The one JSON-RPC response of a POST, from a JSON body or the last message of an SSE stream. */
export async function responseMessage(res: Response): Promise<any> {
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    const events = (await readAllEvents(res)).filter((e) => e.data !== "");
    return JSON.parse(events.at(-1)!.data);
  }
  return res.json();
}

/** The JSON-RPC error body of a response that must fail with `status`. */
export async function expectRpcError(res: Response, status: number, code?: number): Promise<{ code: number; message: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expectNoStackTrace(text);
  const body = JSON.parse(text);
  expect(body.jsonrpc).toBe("2.0");
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body.error;
}

/** No error text reveals the code behind it. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules/);
}

/** The text of the first text block of a tool result. */
export function textOf(result: { content?: { type: string; text?: string }[] }): string {
  return result.content?.find((c) => c.type === "text")?.text ?? "";
}

// --- SSE -----------------------------------------------------------------------

export interface SseEvent {
  id?: string;
  data: string;
  retry?: number;
  event?: string;
}

/** The events of an SSE body already read as text. */
export function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .map(parseEventBlock)
    .filter((e): e is SseEvent => e !== null);
}

/** Reads SSE events one at a time from a response body; `cancel()` cuts the stream like a dropped connection. */
export class SseReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";
  #done = false;

  constructor(res: Response) {
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    this.#reader = res.body!.getReader();
  }

  /** The next event, or null when the stream ended. */
  async next(): Promise<SseEvent | null> {
    for (;;) {
      const boundary = this.#buffer.search(/\r?\n\r?\n/);
      if (boundary >= 0) {
        const block = this.#buffer.slice(0, boundary);
        this.#buffer = this.#buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        const event = parseEventBlock(block);
        if (event) return event;
        continue;
      }
      if (this.#done) return null;
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#done = true;
        this.#buffer += this.#decoder.decode();
        if (this.#buffer.trim() !== "") this.#buffer += "\n\n";
      } else {
        this.#buffer += this.#decoder.decode(value, { stream: true });
      }
    }
  }

  /** The next `n` events; fails if the stream ends first. */
  async take(n: number): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    while (events.length < n) {
      const event = await this.next();
      if (!event) throw new Error(`stream ended after ${events.length} of ${n} events`);
      events.push(event);
    }
    return events;
  }

  /** Every event until the stream ends. */
  async rest(): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    for (let e = await this.next(); e; e = await this.next()) events.push(e);
    return events;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parseEventBlock(block: string): SseEvent | null {
  const event: SseEvent = { data: "" };
  const data: string[] = [];
  let any = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    any = true;
    if (field === "data") data.push(value);
    else if (field === "id") event.id = value;
    else if (field === "retry") event.retry = Number(value);
    else if (field === "event") event.event = value;
  }
  event.data = data.join("\n");
  return any ? event : null;
}

export function readAllEvents(res: Response): Promise<SseEvent[]> {
  return new SseReader(res).rest();
}

/** The JSON-RPC messages of SSE events, skipping priming events (empty data). */
export const messagesOf = (events: SseEvent[]) => events.filter((e) => e.data !== "").map((e) => JSON.parse(e.data));

// --- Durable Object state ---------------------------------------------------------------

/**
 * The incarnation of each tenant a helper created or opened a session with, so that
 * `sessionObjectId` can stay synchronous. A tenant deleted and created again is
 * remembered with its new incarnation at its next `provisionTenant` or `openSession`.
 */
const incarnations = new Map<string, string>();

/** The tenant's config straight from its Durable Object (the admin API leaves the incarnation out). */
export async function tenantConfig(tenant: string): Promise<TenantConfig | null> {
  return tenantObject(tenant).info();
}

/** The tenant's Durable Object, named as the Worker names it (src/env.ts `tenantStub`). */
export const tenantObject = (tenant: string) => tenantStub(env, tenant);

export async function rememberIncarnation(tenant: string): Promise<string> {
  const config = await tenantConfig(tenant);
  if (!config) throw new Error(`tenant ${tenant} does not exist`);
  incarnations.set(tenant, config.incarnation);
  return config.incarnation;
}

/** The object of a session of a tenant the helpers know (see `incarnations`); `incarnation` names another one. */
export function sessionObjectId(tenant: string, server: string, sessionId: string, incarnation = incarnations.get(tenant)): DurableObjectId {
  if (incarnation === undefined) throw new Error(`incarnation of tenant ${tenant} unknown: create it with provisionTenant or open a session with openSession first`);
  return env.SESSION.idFromName(sessionObjectName(tenant, incarnation, server, sessionId));
}

export function sessionStub(tenant: string, server: string, sessionId: string, incarnation?: string) {
  return env.SESSION.get(sessionObjectId(tenant, server, sessionId, incarnation));
}

/** The listen bus of a server of a tenant the helpers know (src/env.ts `listenBusStub`); `incarnation` names another one. */
export function busStub(tenant: string, server: string, incarnation = incarnations.get(tenant)) {
  if (incarnation === undefined) throw new Error(`incarnation of tenant ${tenant} unknown: create it with provisionTenant or open a session with openSession first`);
  return listenBusStub(env, tenant, incarnation, server);
}

/** The report shards of a tenant (src/tenant/report-shard-do.ts), named as the sessions name them. */
export function reportShards(tenant: string) {
  const shards = platformConfig(env).SMCP_REPORT_SHARDS;
  return Array.from({ length: shards }, (_, i) => env.REPORT_SHARDS.get(env.REPORT_SHARDS.idFromName(reportShardName(tenant, i))));
}

/** Runs the flush alarm of every report shard of a tenant that has one armed: what the tenant would see 5 s later. */
export async function flushReports(tenant: string): Promise<number> {
  let flushed = 0;
  for (const shard of reportShards(tenant)) if (await runDurableObjectAlarm(shard)) flushed++;
  return flushed;
}

/** A session's due report, sent by its alarm and flushed by its shard to the tenant. */
export async function reportNow(tenant: string, server: string, sessionId: string): Promise<boolean> {
  const ran = await runDurableObjectAlarm(sessionStub(tenant, server, sessionId));
  await flushReports(tenant);
  return ran;
}

/** Whether workerd has a storage file for this session object. */
export async function sessionStorageExists(id: DurableObjectId): Promise<boolean> {
  return (await listDurableObjectIds(env.SESSION)).some((existing) => existing.toString() === id.toString());
}

export interface StorageSnapshot {
  kvKeys: string[];
  /** User tables and indexes (workerd's own `_cf_*` tables left out). */
  tables: string[];
  alarm: number | null;
}

/** What a Durable Object holds, read from inside it. */
export function storageOf(stub: DurableObjectStub): Promise<StorageSnapshot> {
  return runInDurableObject(stub, async (_instance, state) => ({
    kvKeys: [...state.storage.kv.list()].map(([key]) => key),
    tables: state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master")
      .toArray()
      .map((row) => row.name)
      .filter((name) => !name.startsWith("_cf_")),
    alarm: await state.storage.getAlarm(),
  }));
}

/**
 * Restarts a Durable Object as an eviction or a deploy does: its own `abort()`, after
 * which workerd builds a fresh instance (constructor, empty memory, same storage) for
 * the next request. The abort runs from a timer, once the request that set it has
 * answered: called inside a request, abort() fails that request, which workerd logs as
 * an uncaught exception. `stubOf` makes a new stub each time, as each request through
 * the Worker does: the stub that saw the abort stays broken. Resolves once a request
 * reaches the new instance.
 */
export async function restartObject(stubOf: () => DurableObjectStub | Promise<DurableObjectStub>): Promise<void> {
  const dying = new WeakSet<object>();
  await runInDurableObject(await stubOf(), (instance, state) => {
    dying.add(instance);
    setTimeout(() => {
      try {
        state.abort("test: the object restarts");
      } catch {
        // abort() throws by design: this is the object ending.
      }
    });
  });
  const deadline = Date.now() + 5_000;
  for (;;) {
    const fresh = await runInDurableObject(await stubOf(), (instance) => !dying.has(instance)).catch(() => false);
    if (fresh) return;
    if (Date.now() > deadline) throw new Error("the object did not restart within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const EMPTY_STORAGE: StorageSnapshot = { kvKeys: [], tables: [], alarm: null };

export interface EventRow {
  id: string;
  seq: number;
  streamId: string;
  message: string;
}

/** The session's SSE event log, straight from its SQLite `events` table. */
export function eventRows(stub: DurableObjectStub): Promise<EventRow[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ seq: number; stream_id: string; message: string }>("SELECT seq, stream_id, message FROM events ORDER BY seq")
      .toArray()
      .map((r) => ({ id: `${r.stream_id}.${r.seq}`, seq: r.seq, streamId: r.stream_id, message: r.message })),
  );
}

/**
 * Holds a session object in `blockConcurrencyWhile` until `release()`: it answers
 * nothing meanwhile, as an overloaded or stuck object would.
 */
export async function holdSession(tenant: string, server: string, sessionId: string): Promise<{ release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const held = new Promise<void>((resolve) => (entered = resolve));
  await runInDurableObject(sessionStub(tenant, server, sessionId), (_instance, state) => {
    // Entered after this call has answered: a block begun inside it would hold its own answer too.
    setTimeout(() => {
      void state.blockConcurrencyWhile(async () => {
        entered();
        await gate;
      });
    }, 0);
  });
  await held;
  return { release };
}

// Tasks (2026-07-28 Tasks extension) on the stateless lane.

export const TASKS = "io.modelcontextprotocol/tasks";
/** Which body field (tasks)  the `Mcp-Name` header mirrors. */
const NAME_FIELD: Record<string, string> = { "tools/call": "name", "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId" };

/** One 2026-07-28 request that declares the Tasks extension. */
export function taskFetch(url: string, key: string | null, method: string, params: Record<string, unknown>): Promise<Response> {
  const headers: Record<string, string> = { "MCP-Protocol-Version": STATELESS_REVISION, "Mcp-Method": method };
  const field = NAME_FIELD[method];
  if (field && typeof params[field] === "string") headers["Mcp-Name"] = params[field] as string;
  const meta = { ...statelessMeta(), "io.modelcontextprotocol/clientCapabilities": { elicitation: {}, extensions: { [TASKS]: {} } } };
  return mcpFetch(url, { key, headers, body: rpc(method, { ...params, _meta: meta }) });
}

export async function taskCall(url: string, key: string | null, method: string, params: Record<string, unknown>): Promise<any> {
  const res = await taskFetch(url, key, method, params);
  const message = await responseMessage(res);
  expect(message.error, JSON.stringify(message.error)).toBeUndefined();
  return message.result;
}

export const startTask = async (url: string, key: string | null, name: string, args: Record<string, unknown> = {}) => {
  const created = await taskCall(url, key, "tools/call", { name, arguments: args });
  expect(created).toMatchObject({ resultType: "task", status: "working" });
  return created.taskId as string;
};

/** Polls `tasks/get` until the task leaves `working`. */
export async function settledTask(url: string, key: string | null, taskId: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const task = await taskCall(url, key, "tasks/get", { taskId });
    if (task.status !== "working") return task;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`task ${taskId} stayed working`);
}

/**
 * Every line written to the console from now on (logEvent's JSON lines and anything else),
 * still passed through; the spies go with `vi.restoreAllMocks()`.
 */
export function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error", "info", "debug"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...parts: unknown[]) => {
      lines.push(parts.map(String).join(" "));
      original(...parts);
    });
  }
  return lines;
}
