/**
 * MCP on the wire, as the official SDK client speaks it.
 *
 * The load generator cannot run the SDK client per request, so this module runs
 * the real client once per endpoint and lane with a recording `fetch`, keeps the
 * exact requests it sent (headers, `_meta` envelope, `Mcp-Method`/`Mcp-Name` on the
 * stateless lane, `MCP-Protocol-Version` and `Mcp-Session-Id` on the session lane)
 * and replays them with new ids, tool names and arguments. Nothing here knows a
 * header by heart beyond the session id it swaps in.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/** No setup request may hang the run: a server that stops answering fails the figure. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The SDK client's `versionNegotiation` option that puts it on each lane. */
const LANE_OPTIONS = {
  session: {},
  stateless: { versionNegotiation: { mode: { pin: "2026-07-28" } } },
};

/**
 * Runs the SDK client against `url` on `lane`, calls `tool` once, and returns the
 * requests it made as templates: `initialize`, `initialized` and `stream` (the GET)
 * on the session lane, `call` on both.
 */
export async function captureTemplates(url, headers, lane, tool) {
  const sent = [];
  const recording = async (input, init) => {
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    sent.push({ method: init?.method ?? "GET", headers: Object.fromEntries(new Headers(init?.headers)), body });
    return fetch(input, init);
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: recording });
  const client = new Client({ name: "smcp-bench", version: "1.0.0" }, LANE_OPTIONS[lane]);
  await client.connect(transport);
  const result = await client.callTool({ name: tool.name, arguments: tool.args });
  if (result.isError) throw new Error(`${tool.name} failed on ${url}: ${JSON.stringify(result.content)}`);
  await client.close();
  const post = (method) => sent.find((r) => r.method === "POST" && r.body?.method === method);
  const templates = { lane, url, call: post("tools/call") };
  if (lane === "session") {
    Object.assign(templates, { initialize: post("initialize"), initialized: post("notifications/initialized") });
    // The client opens its GET stream in the background; if it had not yet, derive it as the client would.
    templates.stream = sent.find((r) => r.method === "GET") ?? {
      method: "GET",
      headers: { ...withoutContentType(templates.initialized.headers), accept: "text/event-stream" },
    };
  }
  for (const [name, value] of Object.entries(templates)) if (value === undefined) throw new Error(`the SDK client sent no ${name} request to ${url}`);
  return templates;
}

function withoutContentType(headers) {
  const { ["content-type"]: _omitted, ...rest } = headers;
  return rest;
}

/** Headers of `template` for session `sessionId` (or none), with `Mcp-Name` following the tool. */
export function headersOf(template, sessionId, toolName) {
  const headers = { ...template.headers };
  delete headers["mcp-session-id"];
  if (sessionId) headers["mcp-session-id"] = sessionId;
  if (toolName && "mcp-name" in headers) headers["mcp-name"] = toolName;
  return headers;
}

/** The JSON text of a `tools/call` like the captured one, for another id, tool or arguments. */
export function callBody(templates, id, tool) {
  const { body } = templates.call;
  return JSON.stringify({ ...body, id, params: { ...body.params, name: tool.name, arguments: tool.args } });
}

/** Opens a session the way the SDK client does (initialize, then notifications/initialized); returns its id. */
export async function openSession(templates) {
  const init = await fetch(templates.url, {
    method: "POST",
    headers: headersOf(templates.initialize),
    body: JSON.stringify(templates.initialize.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await init.text();
  const sessionId = init.headers.get("mcp-session-id");
  if (!init.ok || !sessionId) throw new Error(`initialize answered ${init.status}: ${text.slice(0, 200)}`);
  const ack = await fetch(templates.url, {
    method: "POST",
    headers: headersOf(templates.initialized, sessionId),
    body: JSON.stringify(templates.initialized.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await ack.arrayBuffer();
  if (!ack.ok) throw new Error(`notifications/initialized answered ${ack.status}`);
  return sessionId;
}

/** One `tools/call` over plain fetch; resolves to the response text, throws on any failure. */
export async function callTool(templates, sessionId, id, tool) {
  const res = await fetch(templates.url, {
    method: "POST",
    headers: headersOf(templates.call, sessionId, tool.name),
    body: callBody(templates, id, tool),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok || text.includes('"error":{"code"') || text.includes('"isError":true')) {
    throw new Error(`tools/call ${tool.name} answered ${res.status}: ${text.slice(0, 200)}`);
  }
  return text;
}

/** Opens the standalone GET stream of a session, optionally resuming after `lastEventId`. */
export function openStream(templates, sessionId, { lastEventId, signal } = {}) {
  const headers = headersOf(templates.stream, sessionId);
  if (lastEventId) headers["last-event-id"] = lastEventId;
  return fetch(templates.url, { method: "GET", headers, signal });
}

/** Yields the events of an SSE response body as `{ id, event, data }`. */
export async function* sseEvents(response) {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buffered.indexOf("\n\n")) >= 0) {
      const frame = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      const event = { id: undefined, event: "message", data: "" };
      for (const line of frame.split("\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") event.id = value;
        else if (field === "event") event.event = value;
        else if (field === "data") event.data += value;
      }
      if (event.id !== undefined || event.data) yield event;
    }
  }
}

/** Which body field the `Mcp-Name` header mirrors, per method, on the stateless lane. */
const MCP_NAME_FIELD = { "tools/call": "name", "prompts/get": "name", "resources/read": "uri", "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId" };
const CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";

/**
 * A stateless-lane request for any method, made from the captured `tools/call`
 * (its headers and `_meta` envelope), with `Mcp-Method`/`Mcp-Name` following the
 * method and, if given, `extensions` added to the client capabilities.
 * @param {{ call: { headers: Record<string, string>, body: any } }} templates  stateless lane
 */
export function statelessRequest(templates, id, method, params, { extensions } = {}) {
  const { headers: captured, body } = templates.call;
  const headers = { ...captured, "mcp-method": method };
  delete headers["mcp-name"];
  const field = MCP_NAME_FIELD[method];
  if (field && typeof params[field] === "string") headers["mcp-name"] = params[field];
  const meta = { ...body.params._meta };
  if (extensions) meta[CLIENT_CAPABILITIES] = { ...meta[CLIENT_CAPABILITIES], extensions: { ...meta[CLIENT_CAPABILITIES]?.extensions, ...extensions } };
  return { headers, body: JSON.stringify({ jsonrpc: "2.0", id, method, params: { ...params, _meta: meta } }) };
}

/** The JSON-RPC response of request `id` in a JSON or SSE response body. */
export async function responseMessage(res, id) {
  if (!(res.headers.get("content-type") ?? "").includes("text/event-stream")) return res.json();
  for await (const event of sseEvents(res)) {
    if (!event.data) continue;
    const message = JSON.parse(event.data);
    if (message.id === id) return message;
  }
  throw new Error(`the stream ended without the response to request ${id}`);
}

/** One stateless request; resolves to its result, throws on an HTTP or JSON-RPC error. */
export async function statelessCall(templates, id, method, params, options) {
  const { headers, body } = statelessRequest(templates, id, method, params, options);
  const res = await fetch(templates.url, { method: "POST", headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${method} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const message = await responseMessage(res, id);
  if (message.error) throw new Error(`${method} failed: ${JSON.stringify(message.error).slice(0, 200)}`);
  return message.result;
}
