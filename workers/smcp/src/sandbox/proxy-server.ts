/**
 * A deployed server as the platform serves it: a real SDK `McpServer` in the
 * platform's isolate (session Durable Object or stateless lane), whose tools,
 * resources and prompts come from the stored manifest and whose handlers are
 * proxies that call into the tenant's sandbox.
 *
 * Protocol handling, the event log, limits and the request log stay in platform
 * code; the sandbox runs handler bodies and evaluates the tenant's JSON Schemas
 * (no tenant-written schema is compiled in a platform isolate). Hence the split of errors:
 * - input that fails the tool's JSON Schema is refused by the harness before the
 *   handler runs, and answered here as -32602 with the validator's message;
 * - a handler that throws is the tenant's tool failing: an `isError` tool result
 *   with its message, as the SDK does for built-in servers;
 * - a sandbox that crashes, exceeds its CPU, time or size limit, or answers
 *   nonsense is a JSON-RPC error (-32603) that says which of these happened.
 * Tools use low-level handlers for exactly that reason: `McpServer.registerTool`
 * turns every thrown error into a tool result.
 */
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  isSpecType,
  type CallToolResult,
  type JSONRPCMessage,
  type GetPromptResult,
  type LoggingLevel,
  type ReadResourceResult,
  type ServerContext as McpContext,
} from "@modelcontextprotocol/server";
import { unknownToolMessage } from "@smcp/servers";
import { sandboxCall } from "../tracing/client-span";
import { z } from "zod";
import { logEvent } from "../log";
import { SandboxFailure, type SandboxLog, type SandboxOp, type SandboxReply } from "./client";
import type { Manifest, PromptEntry } from "./manifest";

/** One call into the sandbox of the version this server was built for. */
export type SandboxCaller = (op: SandboxOp, payload: unknown) => Promise<SandboxReply>;

export interface ProxyTarget {
  tenant: string;
  server: string;
  version: number;
  manifest: Manifest;
  call: SandboxCaller;
  /** Told about every call's outcome (for the error rate and last errors). */
  record(error?: { kind: string; message: string }): void;
  /** The text with the server's secret values taken out: for everything of the sandbox's the platform logs or keeps. */
  redact(text: string): Promise<string>;
}

const LOG_LEVELS = new Set<string>(["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]);

export function createProxyServer(target: ProxyTarget): McpServer {
  const { manifest } = target;
  const mcp = new McpServer(
    { name: `${target.tenant}/${target.server}`, title: target.server, version: `v${target.version}` },
    {
      capabilities: {
        logging: {},
        // A new active version publishes tools/list_changed to the server's listen streams
        // (stateless lane, mcp/listen-bus.ts); a session keeps its version and hears nothing.
        ...(manifest.tools.length ? { tools: { listChanged: true } } : {}),
      },
    },
  );

  if (manifest.tools.length) {
    const tools = new Map(manifest.tools.map((t) => [t.name, t]));
    mcp.server.setRequestHandler("tools/list", () => ({
      tools: manifest.tools.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema as { type: "object" },
        ...(t.outputSchema ? { outputSchema: t.outputSchema as { type: "object" } } : {}),
        annotations: t.annotations,
      })),
    }));
    mcp.server.setRequestHandler("tools/call", async (request, ctx) => {
      const { name, arguments: args } = request.params;
      const tool = tools.get(name);
      if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, unknownToolMessage(name));
      const reply = await run(target, `tool ${name}`, "/tools/call", { name, args: args ?? {} }, ctx);
      if (!reply.ok) return { content: [{ type: "text", text: reply.error }], isError: true } satisfies CallToolResult;
      if (!isSpecType.CallToolResult(reply.result)) throw invalidResult(target, `tool ${name}`);
      return mcp.server.projectCallToolResult(reply.result as CallToolResult, tool.outputSchema as never);
    });
  }

  for (const resource of manifest.resources) {
    const { uri, name, ...metadata } = resource;
    mcp.registerResource(name, uri, metadata, async (_uri, ctx) => {
      const reply = await run(target, `resource ${uri}`, "/resources/read", { uri }, ctx);
      if (!reply.ok) throw new ProtocolError(ProtocolErrorCode.InternalError, `Resource ${uri} failed: ${reply.error}`);
      if (!isSpecType.ReadResourceResult(reply.result)) throw invalidResult(target, `resource ${uri}`);
      return reply.result as ReadResourceResult;
    });
  }

  for (const prompt of manifest.prompts) {
    mcp.registerPrompt(prompt.name, { title: prompt.title, description: prompt.description, argsSchema: promptArgs(prompt) }, async (args, ctx) => {
      const reply = await run(target, `prompt ${prompt.name}`, "/prompts/get", { name: prompt.name, args }, ctx);
      if (!reply.ok) throw new ProtocolError(ProtocolErrorCode.InternalError, `Prompt ${prompt.name} failed: ${reply.error}`);
      if (!isSpecType.GetPromptResult(reply.result)) throw invalidResult(target, `prompt ${prompt.name}`);
      return reply.result as GetPromptResult;
    });
  }

  return mcp;
}

/** One call into the sandbox: forwards its logs, records the outcome, turns failures into JSON-RPC errors. */
async function run(target: ProxyTarget, what: string, op: SandboxOp, payload: Record<string, unknown>, ctx: McpContext) {
  let reply: SandboxReply;
  // Its CLIENT span (tracing/client-span.ts): the handler gets that span's context as `ctx.traceparent`.
  const call = sandboxCall({ jsonrpc: "2.0", method: op.slice(1), params: { ...(typeof payload.name === "string" ? { name: payload.name } : {}), _meta: { traceparent: ctx.mcpReq._meta?.traceparent } } } as JSONRPCMessage, target.server, target.version);
  const traceparent = (call.message as { params?: { _meta?: { traceparent?: unknown } } }).params?._meta?.traceparent;
  try {
    reply = await target.call(op, typeof traceparent === "string" ? { ...payload, traceparent } : payload);
    call.end(reply.ok ? {} : { errorType: reply.kind === "invalid-params" ? "-32602" : reply.kind === "tenant" ? "tool_error" : "invalid_reply" });
  } catch (err) {
    call.end({ errorType: err instanceof SandboxFailure ? err.kind : "crash" });
    if (!(err instanceof SandboxFailure)) throw err;
    // The runtime's message may quote the tenant's own (a module that threw while loading).
    const message = await target.redact(err.message);
    target.record({ kind: err.kind, message: `${what}: ${message}` });
    throw new ProtocolError(ProtocolErrorCode.InternalError, `Deployed server ${target.server} (v${target.version}) failed running ${what}: ${message}`);
  }
  await forwardLogs(target, reply.logs ?? [], ctx);
  // What the platform keeps of an error reply (the server's error rate view, its log) has its secrets redacted.
  const kept = reply.ok ? "" : await target.redact(reply.error);
  if (!reply.ok && reply.kind === "invalid-params") {
    // The client's mistake, found by the sandbox's validator: a call, not a server error.
    target.record();
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Input validation error: Invalid arguments for ${what}: ${reply.error}`);
  }
  if (!reply.ok && reply.kind !== "tenant") {
    target.record({ kind: "invalid-reply", message: `${what}: ${kept}` });
    throw new ProtocolError(ProtocolErrorCode.InternalError, `Deployed server ${target.server} (v${target.version}) cannot run ${what}: ${kept}`);
  }
  // A tool's own error result goes to the client as the server wrote it (its author's business); the kept copy is redacted.
  target.record(reply.ok ? undefined : { kind: "tenant", message: `${what}: ${kept}` });
  return reply as { ok: true; result?: unknown } | { ok: false; error: string };
}

function invalidResult(target: ProxyTarget, what: string): ProtocolError {
  const message = `${what} returned a value that is not a valid MCP result`;
  target.record({ kind: "invalid-result", message });
  return new ProtocolError(ProtocolErrorCode.InternalError, `Deployed server ${target.server} (v${target.version}): ${message}`);
}

/**
 * The tenant's log lines (its console) go to the platform log and, as MCP log
 * notifications, to the client, whose session keeps them in its event log: both get
 * the line with the server's secrets redacted.
 */
async function forwardLogs(target: ProxyTarget, logs: SandboxLog[], ctx: McpContext): Promise<void> {
  for (const line of logs) {
    const level = (LOG_LEVELS.has(line.level) ? line.level : "info") as LoggingLevel;
    const message = await target.redact(line.message);
    logEvent(level === "debug" ? "debug" : "info", "tenant log", { tenant: target.tenant, server: target.server, version: target.version, level, message });
    await ctx.mcpReq.log(level, message, target.server).catch(() => {});
  }
}

function promptArgs(prompt: PromptEntry) {
  return z.object(
    Object.fromEntries(
      prompt.arguments.map((a) => {
        const field = a.description ? z.string().describe(a.description) : z.string();
        return [a.name, a.required ? field : field.optional()];
      }),
    ),
  );
}
