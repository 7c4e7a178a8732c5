/**
 * A 2026-07-28 (stateless) client in front of a 2025-era upstream: the SDK's
 * `createMcpHandler` answers the 2026 side (envelope checks, `server/discover`,
 * `resultType`, `subscriptions/listen` on the server's listen bus) with a low-level
 * `Server` that advertises what the upstream advertised and hands every other request
 * to the caller's upstream object (principal-upstream-do.ts), which relays it on the
 * caller's own upstream session. The upstream's notifications about the call
 * (progress, logging) reach the call's stream; its answer is the result, its error the
 * error; its requests for input come back as an `input_required` result, and a retried
 * request's `requestState` and `inputResponses` go to the object with it.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  Server,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { waitUntil } from "cloudflare:workers";
import type { Env } from "../env";
import { governTransport, type GovernedTransport } from "../policy/govern";
import type { ToolPolicy } from "../policy/tool-policy";
import type { Principal } from "../mcp/principal";
import type { ServerRef } from "../sandbox/resolve-server";
import { listenObjectName, principalObjectName, type DeclaredClient, type DescribeOutcome, type UpstreamPrincipalDO } from "./principal-upstream-do";

/** What this lane never declares to a 2025 upstream (tasks are SMCP's own); sampling, elicitation and roots only for a caller whose calls can wait for input rounds. */
const NOT_RELAYED = new Set(["tasks"]);
const INPUT_CAPABILITIES = new Set(["sampling", "elicitation", "roots"]);
const MAX_DECLARED_CHARS = 8 * 1024;
const ENVELOPE_KEYS = new Set([PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY]);

const INTERRUPTED =
  "Request interrupted: SMCP's session with the upstream ended before it answered; it may or may not have taken effect. Send it again if that is safe";

/**
 * What the 2026 request declares about its client, bounded, less what cannot be
 * relayed: an anonymous caller's upstream session lasts one request, so its calls
 * cannot wait for input rounds and sampling, elicitation and roots are not declared.
 */
export function declaredClient(body: unknown, oneShot = false): DeclaredClient {
  const meta = ((body as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta ?? {}) as Record<string, unknown>;
  const caps = meta[CLIENT_CAPABILITIES_META_KEY];
  const capabilities: Record<string, unknown> = {};
  if (typeof caps === "object" && caps !== null && !Array.isArray(caps) && JSON.stringify(caps).length <= MAX_DECLARED_CHARS) {
    for (const [name, value] of Object.entries(caps)) if (!NOT_RELAYED.has(name) && !(oneShot && INPUT_CAPABILITIES.has(name))) capabilities[name] = value;
  }
  const info = meta[CLIENT_INFO_META_KEY] as { name?: unknown; version?: unknown } | undefined;
  const text = (v: unknown, fallback: string) => (typeof v === "string" && v.length > 0 ? v.slice(0, 200) : fallback);
  return { capabilities, clientInfo: { name: text(info?.name, "smcp-stateless-client"), version: text(info?.version, "0") } };
}

/** The caller's upstream object; an anonymous caller's is its own for this one request. */
function upstreamObject(env: Env, principal: Principal): { stub: DurableObjectStub<UpstreamPrincipalDO>; oneShot: boolean } {
  const oneShot = principal.keyId === null && !principal.grantId;
  const name = oneShot ? `anonymous:${crypto.randomUUID()}` : principalObjectName(principal);
  return { stub: env.UPSTREAMS.get(env.UPSTREAMS.idFromName(name)), oneShot };
}

/** The `Server` a 2026 request of `principal` to an upstream server is answered with. */
export async function upstreamServer(env: Env, principal: Principal, ref: ServerRef, body: unknown, policy?: ToolPolicy): Promise<Server> {
  const server = await ungovernedServer(env, principal, ref, body);
  if (policy) {
    // Governed like every server of the stateless lane: the request's transport, once the handler connected the server to it.
    const connect = server.connect.bind(server);
    server.connect = async (transport) => {
      await connect(transport);
      governTransport(transport as unknown as GovernedTransport, () => policy);
    };
  }
  return server;
}

async function ungovernedServer(env: Env, principal: Principal, ref: ServerRef, body: unknown): Promise<Server> {
  const { stub, oneShot } = upstreamObject(env, principal);
  const client = declaredClient(body, oneShot);
  const method = (body as { method?: unknown } | null)?.method;
  // Only discovery needs the upstream's description first; any other request opens the session on its way.
  const described: DescribeOutcome | null =
    method === "server/discover" || method === "subscriptions/listen" ? ((await stub.describe(ref, principal, client, oneShot)) as DescribeOutcome) : null;
  if (described && !described.ok) {
    // The SDK client takes an error answer to its discovery for "not a 2026 server" and drops the message, so discovery
    // succeeds with what SMCP would relay, and each request then gets the upstream's refusal, worded for the client.
    const server = new Server({ name: principal.server, version: "upstream" }, { capabilities: { tools: {}, resources: {}, prompts: {} } });
    const { code, message, data } = described.error;
    server.fallbackRequestHandler = async () => {
      throw new ProtocolError(code, message, data);
    };
    return server;
  }
  const d = described?.ok ? described.description : null;
  const server = new Server(d?.serverInfo ?? { name: principal.server, version: "upstream" }, {
    capabilities: (d?.capabilities ?? {}) as never,
    ...(d?.instructions ? { instructions: d.instructions } : {}),
  });
  server.fallbackRequestHandler = (request, ctx) => relayed(stub, ref, principal, client, request, ctx, oneShot);
  return server;
}

async function relayed(
  stub: DurableObjectStub<UpstreamPrincipalDO>,
  ref: ServerRef,
  principal: Principal,
  client: DeclaredClient,
  request: JSONRPCRequest,
  ctx: ServerContext,
  oneShot: boolean,
): Promise<Record<string, unknown>> {
  let stream: ReadableStream<Uint8Array>;
  try {
    // A retried request of an input round: its `requestState` names the parked upstream call (hostile input, checked in the object).
    const requestState = ctx.mcpReq.requestState();
    const resume = requestState === undefined ? undefined : { requestState, inputResponses: ctx.mcpReq.inputResponses ?? {} };
    stream = await stub.relay(ref, principal, client, withoutEnvelope(request), oneShot, resume);
  } catch {
    throw new ProtocolError(-32603, INTERRUPTED, { upstream: principal.server });
  }
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const abort = () => void reader.cancel().catch(() => {});
  ctx.mcpReq.signal.addEventListener("abort", abort);
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) break;
      buffered += value;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const m = JSON.parse(buffered.slice(0, newline)) as JSONRPCMessage;
        buffered = buffered.slice(newline + 1);
        if (isJSONRPCErrorResponse(m)) throw new ProtocolError(m.error.code, m.error.message, m.error.data);
        if (isJSONRPCResponse(m)) return m.result as Record<string, unknown>;
        if (isJSONRPCNotification(m)) await ctx.mcpReq.notify(m as never).catch(() => {});
      }
    }
  } finally {
    ctx.mcpReq.signal.removeEventListener("abort", abort);
  }
  throw new ProtocolError(-32603, INTERRUPTED, { upstream: principal.server });
}

/** The request as a 2025 upstream takes it: the 2026 envelope keys go (a progress token and trace context stay). */
function withoutEnvelope(request: JSONRPCRequest): JSONRPCRequest {
  const meta = request.params?._meta as Record<string, unknown> | undefined;
  if (!meta) return request;
  const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => !ENVELOPE_KEYS.has(k)));
  const params = { ...request.params };
  if (Object.keys(kept).length > 0) params._meta = kept;
  else delete params._meta;
  return { jsonrpc: "2.0", id: request.id, method: request.method, params };
}

/**
 * Tells the server's listen object that a `subscriptions/listen` stream opens: it holds
 * the upstream's standalone stream until the server's listen bus has no stream left.
 */
export function holdUpstreamListen(env: Env, principal: Principal, incarnation: string, ref: ServerRef): void {
  const stub = env.UPSTREAMS.get(env.UPSTREAMS.idFromName(listenObjectName(principal.tenant, incarnation, principal.server)));
  waitUntil(stub.hold(ref, principal.tenant, incarnation, principal.server).catch(() => {}));
}
