/**
 * Bad arguments are -32602 on built-in servers too, as they are on deployed ones.
 *
 * The SDK's `McpServer` validates a `tools/call`'s arguments inside the same `try` as
 * the handler, so a schema failure comes back as an `isError` tool result, and an
 * unknown tool as "Tool X not found" with no next step. This puts a check in front of
 * the SDK's own handler: an unknown name, or arguments that fail the tool's input
 * schema, get -32602 with a message that says what to do; everything else goes on to
 * the SDK's handler unchanged. The SDK would parse the arguments once more (from its own
 * parsed copy of the request); the value this check produced is handed to it instead,
 * so a call's arguments are parsed once (`handOver` below).
 *
 * The SDK exposes neither its registered tools nor its stored handler, so both are
 * read through the narrow view below (the notes tests of bad arguments fail at once if a
 * new SDK version moves them).
 */
import { McpServer, ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";

/** The part of a Standard Schema (zod's, here) this needs. */
interface InputSchema {
  "~standard": { validate(value: unknown): Promise<{ issues?: readonly Issue[] }> | { issues?: readonly Issue[] } };
}
interface Issue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

type Handler = (request: { params: { name: string; arguments?: unknown } }, ctx: unknown) => Promise<unknown>;

interface RegisteredTool {
  enabled: boolean;
  inputSchema?: InputSchema;
}

interface SdkInternals {
  _registeredTools: Record<string, RegisteredTool | undefined>;
  server: { _getRequestHandler(method: string): Handler | undefined };
  _maxToolInputElements?: number;
  validateToolInput(tool: RegisteredTool, args: unknown, toolName: string): Promise<unknown>;
}

/**
 * Teaches `internals.validateToolInput` (the SDK's parse of a call's arguments) to take a
 * value this check just produced for the same tool. The SDK's `tools/call` chain runs
 * synchronously from its handler's entry to that parse, so the value is set right before
 * the SDK's handler is called and cleared right after it returns its promise: a chain that
 * waits on something first (a `requestState` check) finds nothing and parses as before.
 */
function handOver(internals: SdkInternals): (tool: RegisteredTool, value: unknown, call: () => Promise<unknown>) => Promise<unknown> {
  let handed: { tool: RegisteredTool; value: unknown } | undefined;
  const validate = internals.validateToolInput;
  internals.validateToolInput = function (tool, args, toolName) {
    const value = handed?.tool === tool && this._maxToolInputElements === undefined ? handed : undefined;
    handed = undefined;
    return value ? Promise.resolve(value.value) : validate.call(this, tool, args, toolName);
  };
  return (tool, value, call) => {
    handed = { tool, value };
    try {
      return call();
    } finally {
      handed = undefined;
    }
  };
}

/** The text of an unknown tool: the name and where the real ones are listed. */
export const unknownToolMessage = (name: string) => `Tool ${name} not found: call tools/list for the tools this server has`;

function issueText(issue: Issue): string {
  const path = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Puts the check in front of `server`'s `tools/call` handler; a server without tools is left as it is. */
export function strictToolCalls(server: McpServer): McpServer {
  const internals = server as unknown as SdkInternals;
  const sdkHandler = internals.server._getRequestHandler("tools/call");
  if (!sdkHandler) return server;
  const withValidated = handOver(internals);
  // Stored as the SDK stores its own: the raw request in, the SDK's handler (already
  // wrapped with the server's result checks) does the rest.
  (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers.set("tools/call", async (request, ctx) => {
    const name = request.params?.name;
    // Own keys only: "constructor" or "__proto__" is no tool.
    const tool = typeof name === "string" && Object.hasOwn(internals._registeredTools, name) ? internals._registeredTools[name] : undefined;
    if (typeof name === "string" && !tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, unknownToolMessage(name));
    if (tool?.enabled && tool.inputSchema) {
      const checked = (await tool.inputSchema["~standard"].validate(request.params.arguments ?? {})) as { issues?: readonly Issue[]; value?: unknown };
      if (checked.issues?.length) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Input validation error: Invalid arguments for tool ${name}: ${checked.issues.map(issueText).join(", ")}; see the tool's inputSchema in tools/list`,
        );
      }
      return withValidated(tool, checked.value, () => sdkHandler(request, ctx));
    }
    return sdkHandler(request, ctx);
  });
  return server;
}
