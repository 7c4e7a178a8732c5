/**
 * A raw 2026-07-28 request, for what SDK Client 2.4.0 will not send or read (task
 * results, task listens, a listen past the cap): the revision's per-request headers
 * (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` where the method names something)
 * and the `_meta` envelope, declaring what `capabilities` says.
 */
export const REVISION = "2026-07-28";
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

export function envelope(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": REVISION,
    "io.modelcontextprotocol/clientInfo": { name: "smcp-e2e", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": capabilities,
  };
}

/** The name a method's `Mcp-Name` header carries, if any. */
function nameOf(method: string, params: Record<string, unknown>): unknown {
  if (method === "tools/call" || method === "prompts/get") return params.name;
  if (method === "resources/read") return params.uri;
  if (method.startsWith("tasks/")) return params.taskId;
  return undefined;
}

export function post2026(
  url: string,
  key: string,
  method: string,
  params: Record<string, unknown>,
  options: { id?: number; capabilities?: Record<string, unknown>; meta?: Record<string, unknown> } = {},
): Promise<Response> {
  const name = nameOf(method, params);
  return fetch(url, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${key}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": REVISION,
      "Mcp-Method": method,
      ...(typeof name === "string" ? { "Mcp-Name": name } : {}),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: options.id ?? 1, method, params: { ...params, _meta: options.meta ?? envelope(options.capabilities) } }),
  });
}

/** The JSON-RPC message an answer carries: its JSON body, or the last `data:` line of its event stream. */
export async function lastMessage(res: Response): Promise<{ text: string; message: any }> {
  const text = await res.text();
  const sse = res.headers.get("content-type")?.startsWith("text/event-stream");
  const json = sse ? text.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6).at(-1)!.slice(6) : text;
  return { text, message: JSON.parse(json) };
}
