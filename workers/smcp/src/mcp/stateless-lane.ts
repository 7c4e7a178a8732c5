/**
 * The stateless lane (2026-07-28), served by the SDK's `createMcpHandler` right in
 * the routing Worker: a modern request carries everything it needs, so it needs no
 * session object and no extra Durable Object hop. Tool data still lives in the
 * tenant's Durable Object, reached through the `ToolDataStore` the factory is given.
 *
 * Shaped by what must not cross between tenants or reach tool code:
 * - One handler per tenant and server (and module object: a new deployment gets a
 *   new one), each with the bus of that tenant incarnation's server: its ListenBusDO,
 *   shared by every isolate (listen-bus.ts). A list-changed event published by one
 *   tenant's tool, in any isolate, reaches that tenant's and that server's
 *   `subscriptions/listen` streams in every isolate, and no other's. The handlers are
 *   kept in the runtime's BoundedCache (bytes); the least recently used one without
 *   open streams goes first.
 * - Tools receive `authInfo` with who is calling and nothing of the platform: the
 *   Worker's `env` reaches the factory through a WeakMap keyed by the request.
 * - A server under a tool policy is governed per request (policy/govern.ts): each
 *   exchange's transport, whatever module serves it, as the Worker resolved the policy.
 * - Task tools of a module (`taskTools`) get the Tasks extension (tasks/with-tasks.ts): the
 *   task lives in the tenant's TaskDO, bound to this request's principal.
 * - A `subscriptions/listen` that names `taskIds` (task status notifications) is served
 *   by tasks/task-listen.ts over the same bus, bound to the request's principal.
 * - `subscriptions/listen` streams are capped at `SMCP_MAX_LISTEN_STREAMS_PER_TENANT`
 *   twice: per tenant per isolate (listen-streams.ts), and per server across isolates
 *   (the bus object counts the streams it holds).
 * - A listen stream checks its credential again while it stays open (listen-revocation.ts):
 *   a revoked key's or grant's streams end, in whichever isolate holds them.
 * - Every listen stream carries an SSE keepalive comment (sse-keepalive.ts), so a client
 *   that left is noticed at the next write and both counts above give its stream back.
 */
import { createMcpHandler, type McpHttpHandler, type McpServer } from "@modelcontextprotocol/server";
import { BoundedCache, WireError, platformConfig, tenantIncarnationName } from "@smcp/runtime";
import type { ServerModule } from "@smcp/servers";
import { listenBusStub, tenantStub, type Env } from "../env";
import { logEvent } from "../log";
import { isSdkModule } from "../sandbox/sdk/serving";
import { taskStub } from "../tasks/task-do";
import { classifyListen, serveTaskListen } from "../tasks/task-listen";
import type { TaskRunner } from "../tasks/task-record";
import { withTasks, type TaskHost } from "../tasks/with-tasks";
import { TenantToolStore } from "../tool-store";
import { governTransport, type GovernedTransport } from "../policy/govern";
import { policyView, type ToolPolicy } from "../policy/tool-policy";
import type { Trace } from "../trace";
import { DurableListenBus } from "./listen-bus";
import { authenticate } from "./authenticate";
import { endWhenRevoked } from "./listen-revocation";
import { listenStreamsExceeded, releaseWhenClosed, takeListenSlot } from "./listen-streams";
import { withSseKeepalive } from "./sse-keepalive";
import { authInfoOf, incarnationOf, samePrincipal, type Principal } from "./principal";
import { isUpstreamModule } from "../gateway/serving";
import { holdUpstreamListen, upstreamServer } from "../gateway/stateless-upstream";
import type { ServerRef } from "../sandbox/resolve-server";
import { recordIsolate } from "../metrics/isolate-sink";
import { kindOfHttpStatus, kindOfRpcError, type ErrorKind } from "../metrics/error-kinds";
import { serverKindOf } from "../metrics/server-kind";

/** Estimated bytes of one handler (its closures, bus and listen router) and the bound of all of them. */
const HANDLER_ENTRY_BYTES = 8 * 1024;
const HANDLER_CACHE_BYTES = 4 * 1024 * 1024;

interface HandlerEntry {
  module: ServerModule;
  handler: McpHttpHandler;
  bus: DurableListenBus;
  /** Listen streams open on this handler's bus: evicting it would cut them off from later events. */
  listening: number;
}

/** By tenant incarnation and server; a handler with open listen streams is evicted last. */
const handlers = new BoundedCache<HandlerEntry>({
  maxBytes: HANDLER_CACHE_BYTES,
  ttlMs: Number.POSITIVE_INFINITY,
  sizeOf: () => HANDLER_ENTRY_BYTES,
  spare: (entry) => entry.listening > 0,
});

/** The Worker's env and the caller of the request being served; never part of anything a tool receives. */
const envOfRequest = new WeakMap<Request, Env>();
const principalOfRequest = new WeakMap<Request, Principal>();
/** The server's tool policy as this request resolved it (policy/govern.ts applies it to the request's exchange). */
const policyOfRequest = new WeakMap<Request, ToolPolicy>();
/** For an upstream server: the ref it was resolved with and the request's body (what its client declares). */
const upstreamOfRequest = new WeakMap<Request, { ref: ServerRef; body: unknown }>();

/**
 * The metrics of one request of the lane: counted once, when its answer is sent (seen on
 * the exchange's transport, so a tool's `isError` result and an SSE answer count right),
 * or from the HTTP status when the SDK refused it before any answer.
 */
interface CallMetrics {
  answer(message: unknown): void;
  refused(status: number): void;
}
const metricsOfRequest = new WeakMap<Request, CallMetrics>();

function callMetrics(env: Env, principal: Principal, module: ServerModule, body: unknown): CallMetrics | null {
  const m = body as { id?: unknown; method?: unknown; params?: { name?: unknown } } | null;
  if (typeof m?.method !== "string" || m.id === undefined) return null;
  const started = Date.now();
  const serverKind = serverKindOf(principal.server, module);
  const method = m.method;
  const tool = method === "tools/call" && typeof m.params?.name === "string" ? m.params.name : null;
  let done = false;
  const count = (kind: ErrorKind | null) => {
    if (done) return;
    done = true;
    recordIsolate(env, { tenant: principal.tenant, incarnation: incarnationOf(principal), server: principal.server, method, tool, kind, durationMs: Date.now() - started });
  };
  return {
    answer(message) {
      const a = message as { id?: unknown; result?: { isError?: unknown }; error?: { code?: unknown } };
      if (a?.id !== m.id || (a.result === undefined && a.error === undefined)) return;
      count(a.error ? kindOfRpcError(a.error.code, serverKind) : a.result?.isError === true ? "tool" : null);
    },
    refused: (status) => count(kindOfHttpStatus(status, serverKind)),
  };
}

/** Watches what the server sends on each exchange of the request, for its metrics. */
function observeAnswers(server: { connect(transport: never): Promise<void> }, metrics: CallMetrics): void {
  const connect = server.connect.bind(server) as (t: { send(message: unknown, options?: unknown): Promise<void> }) => Promise<void>;
  (server as { connect: typeof connect }).connect = async (transport) => {
    await connect(transport);
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      metrics.answer(message);
      return send(message, options);
    };
  };
}

/** What runs a module's tasks: a deployed SDK server runs them on the version serving this request. */
const runnerOf = (module: ServerModule): TaskRunner => (isSdkModule(module) ? { kind: "deployed", version: module.sdk.version, hash: module.sdk.hash } : { kind: "built-in" });

/** The tenant's TaskDO, bound to the request's principal: a task is found only by its owner. */
function taskHost(env: Env, principal: Principal, module: ServerModule): TaskHost {
  const stub = () => taskStub(env, principal);
  const runner = runnerOf(module);
  return {
    create: (call) => stub().create(principal, call, runner),
    get: (taskId) => stub().get(principal, taskId),
    update: (taskId, inputResponses) => stub().update(principal, taskId, inputResponses),
    cancel: (taskId) => stub().cancel(principal, taskId),
  };
}

function handlerFor(module: ServerModule, principal: Principal, env: Env, maxRequestBodySize: number): HandlerEntry {
  const { tenant, server } = principal;
  const incarnation = incarnationOf(principal);
  // The incarnation is part of the key: a re-created tenant gets a handler (and bus) of its own.
  const key = `${tenantIncarnationName(tenant, incarnation)}/${server}`;
  const hit = handlers.get(key);
  // A new deployment replaces the entry; the old handler's open streams keep its bus until they end.
  if (hit?.module === module) return hit;
  const onerror = (error: Error) => logEvent("warn", "stateless lane error", { tenant, server, error: error.message });
  // The namespace is the same in every request; the stub is made per call.
  const namespace = env.LISTEN_BUS;
  const bus = new DurableListenBus(
    () => listenBusStub({ LISTEN_BUS: namespace }, tenant, incarnation, server),
    platformConfig(env).SMCP_MAX_LISTEN_STREAMS_PER_TENANT,
    onerror,
  );
  const handler: McpHttpHandler = createMcpHandler(
    (ctx) => {
      const env = ctx.requestInfo ? envOfRequest.get(ctx.requestInfo) : undefined;
      const caller = ctx.requestInfo ? principalOfRequest.get(ctx.requestInfo) : undefined;
      if (!env || !caller) throw new Error("stateless lane: no env for this request");
      const policy = ctx.requestInfo ? policyOfRequest.get(ctx.requestInfo) : undefined;
      const metrics = ctx.requestInfo ? metricsOfRequest.get(ctx.requestInfo) : undefined;
      if (isUpstreamModule(module)) {
        const up = upstreamOfRequest.get(ctx.requestInfo!);
        if (!up) throw new Error("stateless lane: no upstream ref for this request");
        return upstreamServer(env, caller, up.ref, up.body, policy).then((s) => {
          if (metrics) observeAnswers(s as never, metrics);
          return s;
        });
      }
      const mcpServer = serverFor(module, caller, env, handler.notify, policy);
      if (metrics) observeAnswers(mcpServer.server as never, metrics);
      return mcpServer;
    },
    { legacy: "reject", maxRequestBodySize, bus, onerror },
  );
  const entry: HandlerEntry = { module, handler, bus, listening: 0 };
  handlers.set(key, entry);
  return entry;
}

/** The module's McpServer for one request of `principal`, with the Tasks extension where it has task tools, governed by its tool policy. */
function serverFor(module: ServerModule, principal: Principal, env: Env, notify: McpHttpHandler["notify"], policy?: ToolPolicy) {
  const { tenant, server } = principal;
  const mcpServer = module.create({ tenant, server, store: new TenantToolStore(tenantStub(env, tenant), server, incarnationOf(principal)), notify });
  if (policy) governConnections(mcpServer, policy);
  return withTasks(mcpServer, module.taskTools, taskHost(env, principal, module));
}

/**
 * Each transport the request's server is connected to (one per exchange) is governed by
 * the request's policy. The SDK also reads a called tool's input schema before the
 * exchange (for the `x-mcp-header` checks): it gets the real tool's, and none for a hidden
 * name, as for a name no tool has.
 */
function governConnections(mcp: McpServer, policy: ToolPolicy): void {
  const view = policyView(policy);
  const schemaOf = mcp.toolInputSchemaJson.bind(mcp);
  mcp.toolInputSchemaJson = (name) => {
    const real = view.real(name);
    return real === null ? undefined : schemaOf(real);
  };
  const server = mcp.server;
  const connect = server.connect.bind(server);
  server.connect = async (transport) => {
    await connect(transport);
    governTransport(transport as unknown as GovernedTransport, () => policy);
  };
}

/** A listen stream that ends once its credential no longer passes (revoked, expired, server gone): the check a new request would pass, and the same principal. */
export function endListenWhenRevoked(request: Request, parsedBody: unknown, principal: Principal, env: Env, response: Response): Response {
  const stillValid = () =>
    authenticate(request, env, principal.tenant, principal.server, { fresh: true }).then(
      (now) => samePrincipal(now, principal),
      (err: unknown) => {
        // Refused (revoked, expired, server gone): ends the stream. Anything else: could not tell.
        if (err instanceof WireError && [401, 403, 404].includes(err.status)) return false;
        throw err;
      },
    );
  const listenId = (parsedBody as { id?: unknown }).id;
  return endWhenRevoked(response, typeof listenId === "string" || typeof listenId === "number" ? listenId : null, stillValid);
}

const isListen = (body: unknown) => (body as { method?: unknown } | null)?.method === "subscriptions/listen";

export async function serveStateless(
  request: Request,
  parsedBody: unknown,
  module: ServerModule,
  policy: ToolPolicy | null,
  principal: Principal,
  env: Env,
  maxRequestBodySize: number,
  trace: Trace,
  ref?: ServerRef,
): Promise<Response> {
  const entry = handlerFor(module, principal, env, maxRequestBodySize);
  const authInfo = authInfoOf(principal, { traceparent: trace.traceparent });
  if (policy) policyOfRequest.set(request, policy);
  if (ref) upstreamOfRequest.set(request, { ref, body: parsedBody });
  if (!isListen(parsedBody)) {
    envOfRequest.set(request, env);
    principalOfRequest.set(request, principal);
    const metrics = callMetrics(env, principal, module, parsedBody);
    if (metrics) metricsOfRequest.set(request, metrics);
    const response = await entry.handler.fetch(request, { parsedBody, authInfo });
    if (response.status >= 400) metrics?.refused(response.status);
    return response;
  }
  const listen = classifyListen(parsedBody, request);
  if (listen.kind === "refused") return listen.response;
  const max = platformConfig(env).SMCP_MAX_LISTEN_STREAMS_PER_TENANT;
  const releaseSlot = takeListenSlot(principal.tenant, max);
  entry.listening++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    entry.listening--;
    releaseSlot();
  };
  // Every listen stream, whatever serves it, carries the keepalive: the write that fails is how a client that left is noticed and its slots given back.
  const held = (response: Response) => releaseWhenClosed(withSseKeepalive(endListenWhenRevoked(request, parsedBody, principal, env, response)), release);
  try {
    // The bus object refuses streams beyond the cap too; asking first turns that into a 429.
    if ((await listenBusStub(env, principal.tenant, incarnationOf(principal), principal.server).openStreams()) >= max) {
      throw listenStreamsExceeded(max);
    }
    if (listen.kind === "tasks" && !ref) {
      // Read for its capabilities only (what list changes it can deliver); never connected.
      const capabilities = serverFor(module, principal, env, entry.handler.notify).server.getCapabilities();
      const host = taskHost(env, principal, module);
      const onerror = (error: Error) => logEvent("warn", "task listen error", { tenant: principal.tenant, server: principal.server, error: error.message });
      const response = await serveTaskListen(listen, { capabilities, getTask: host.get, subscribe: (l) => entry.bus.subscribeAll(l), signal: request.signal, onerror });
      return held(response);
    }
    envOfRequest.set(request, env);
    principalOfRequest.set(request, principal);
    const response = await entry.handler.fetch(request, { parsedBody, authInfo });
    // An upstream's list changes reach the bus while any listen stream of the server is open.
    if (ref && response.ok) holdUpstreamListen(env, principal, incarnationOf(principal), ref);
    return held(response);
  } catch (err) {
    release();
    throw err;
  }
}
