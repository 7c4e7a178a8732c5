/**
 * Applies a server's tool policy (policy/tool-policy.ts) to the JSON-RPC messages
 * between a client and whatever serves it: the one place each lane enforces it, for
 * every kind of server. The session lane governs the session's client transport
 * (session-do.ts), whichever backend is connected to it (an SDK server here, the sandbox
 * relay, the upstream relay); the stateless lane governs each request's transport
 * (mcp/stateless-lane.ts).
 *
 * Clients see the governed view: `tools/list` answers filtered, renamed, with
 * descriptions overridden (their `nextCursor` untouched, so paging still works; a page
 * may come out shorter); `initialize` and `server/discover` answers advertise
 * `tools.listChanged`. A `tools/call` of a hidden name (a denied tool, a tool outside
 * `allow`, the old name of a renamed one) reaches the server as a call of a random name
 * no tool has, so no tool runs and the answer is exactly the server's own answer to an
 * unknown tool (with the name the client called put back): built-in, module format, SDK
 * and upstream servers word it differently, and a hidden tool must not be told from one
 * that does not exist. A call of a new name reaches the server under the real name, and
 * the answer's error text names the tool as the client called it.
 *
 * It patches the transport after a server was connected to it (`onmessage` in, `send`
 * out), so what the server sees and sends is unchanged. The policy is read per message:
 * a session that learns of a new one applies it from its next message on.
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { policyView, type PolicyView, type ToolPolicy } from "./tool-policy";

/** What of a transport the governor touches: the SDK's transports all have these. */
export interface GovernedTransport {
  onmessage?: ((message: JSONRPCMessage, extra?: never) => void) | undefined;
  send(message: JSONRPCMessage, options?: never): Promise<void>;
}

type Id = string | number;
type Pending = { method: "initialize" | "server/discover" | "tools/list" } | { method: "tools/call"; real: string; called: string };

/** Requests waiting for an answer that the governor rewrites; past this many, the oldest is forgotten. */
const MAX_PENDING = 1_024;

/** A tool name no server has (128 random bits), valid by the MCP tool-name rules. */
const noSuchTool = () => `smcp_no_such_tool_${[...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

/** Governs `transport` by the policy `policy()` returns at each message (null: no policy, nothing changes). */
export function governTransport(transport: GovernedTransport, policy: () => ToolPolicy | null | undefined): void {
  const pending = new Map<Id, Pending>();
  const view = (): PolicyView | null => {
    const current = policy();
    return current ? policyView(current) : null;
  };
  const remember = (id: Id, entry: Pending) => {
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
    pending.set(id, entry);
  };

  const inbound = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const m = message as { id?: Id; method?: string; params?: { name?: unknown } };
    const v = view();
    if (v && typeof m.method === "string" && (typeof m.id === "string" || typeof m.id === "number")) {
      if (m.method === "initialize" || m.method === "server/discover" || m.method === "tools/list") remember(m.id, { method: m.method });
      else if (m.method === "tools/call" && typeof m.params?.name === "string") {
        const called = m.params.name;
        const real = v.real(called) ?? noSuchTool();
        remember(m.id, { method: "tools/call", real, called });
        if (real !== called) message = { ...message, params: { ...m.params, name: real } } as JSONRPCMessage;
      }
    }
    inbound?.(message, extra);
  };

  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const m = message as { id?: Id; method?: string; result?: unknown; error?: unknown };
    if (m.method === undefined && m.id !== undefined && m.id !== null && pending.size > 0) {
      const entry = pending.get(m.id);
      if (entry) {
        pending.delete(m.id);
        const v = view();
        if (v) message = governAnswer(message, entry, v);
      }
    }
    return send(message, options);
  };
}

function governAnswer(message: JSONRPCMessage, entry: Pending, v: PolicyView): JSONRPCMessage {
  const m = message as { result?: Record<string, unknown>; error?: { message?: unknown } };
  if (entry.method === "tools/call") {
    if (entry.real === entry.called) return message;
    if (m.error && typeof m.error.message === "string") return { ...message, error: { ...m.error, message: renamedIn(m.error.message, entry) } } as JSONRPCMessage;
    const result = m.result as { isError?: unknown; content?: unknown } | undefined;
    if (result?.isError === true && Array.isArray(result.content)) {
      const content = result.content.map((c: { type?: unknown; text?: unknown }) => (c?.type === "text" && typeof c.text === "string" ? { ...c, text: renamedIn(c.text, entry) } : c));
      return { ...message, result: { ...result, content } } as JSONRPCMessage;
    }
    return message;
  }
  const result = m.result;
  if (!result || typeof result !== "object") return message;
  if (entry.method === "tools/list") {
    if (!Array.isArray(result.tools)) return message;
    const tools = [];
    for (const tool of result.tools as { name?: unknown; description?: unknown }[]) {
      if (typeof tool?.name !== "string") continue;
      const name = v.visible(tool.name);
      if (name === null) continue;
      const description = v.description(tool.name);
      tools.push({ ...tool, name, ...(description !== undefined ? { description } : {}) });
    }
    return { ...message, result: { ...result, tools } } as JSONRPCMessage;
  }
  // initialize, server/discover: the governed list changes when the policy does.
  const capabilities = result.capabilities as Record<string, unknown> | undefined;
  if (!capabilities || typeof capabilities !== "object") return message;
  const tools = { ...((capabilities.tools as object | undefined) ?? {}), listChanged: true };
  return { ...message, result: { ...result, capabilities: { ...capabilities, tools } } } as JSONRPCMessage;
}

/** `text` with the real name, where it stands as a word, replaced by the name the client called. */
function renamedIn(text: string, entry: { real: string; called: string }): string {
  const escaped = entry.real.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9_.-])${escaped}(?![A-Za-z0-9_.-])`, "g"), entry.called);
}
