/**
 * A deployed SDK server on the stateless lane (2026-07-28): a platform McpServer whose
 * lists are the version's manifest (taken by the deploy's health check) and whose
 * calls each run in a fresh instance of the server, with `initialize` replayed first.
 *
 * This serves every request that needs nothing from the client (tools, resources,
 * prompts, completions). A server that asks the client something mid-call (sampling,
 * elicitation, roots) is told by an error that on this lane no client can answer; what
 * it makes of that (usually an error result) reaches the client. The server's answers
 * are checked against the MCP result schema of their method, as on the session lane.
 * Low-level handlers only: no tenant-written schema is compiled in a platform isolate.
 */
import { McpServer, ProtocolError, ProtocolErrorCode, isSpecType, type JSONRPCMessage } from "@modelcontextprotocol/server";
import { InstanceCallError, InstanceClient } from "./instance-client";
import { sandboxCall } from "../../tracing/client-span";
import type { SdkServing } from "./serving";

export const CALL_TIMEOUT_MS = 60_000;
export const NO_CLIENT =
  "SMCP: this call came through the stateless lane (MCP 2026-07-28), where a deployed server's request to the client cannot be answered; connect with a 2025 revision (a session) to use it";

export function createStatelessSdkServer(sdk: SdkServing): McpServer {
  const { manifest } = sdk;
  const caps = manifest.capabilities as { tools?: unknown; resources?: unknown; prompts?: unknown; completions?: unknown };
  const mcp = new McpServer(
    { name: String(manifest.serverInfo.name ?? sdk.server), version: String(manifest.serverInfo.version ?? `v${sdk.version}`) },
    {
      capabilities: {
        logging: {},
        // A new active version publishes these lists changed to the server's listen streams (mcp/listen-bus.ts).
        ...(caps.tools ? { tools: { listChanged: true } } : {}),
        ...(caps.resources ? { resources: { listChanged: true } } : {}),
        ...(caps.prompts ? { prompts: { listChanged: true } } : {}),
        ...(caps.completions ? { completions: {} } : {}),
      },
      ...(manifest.instructions ? { instructions: manifest.instructions } : {}),
    },
  );
  const server = mcp.server;
  const call = (method: string, check: (v: unknown) => boolean) => async (request: { params?: Record<string, unknown> }) => {
    const { _meta, ...rest } = request.params ?? {};
    // The 2026 envelope stays here (the instance is served the handshake's revision); the trace context goes on (tracing/stamp.ts).
    const traceparent = (_meta as { traceparent?: unknown } | undefined)?.traceparent;
    const params = typeof traceparent === "string" ? { ...rest, _meta: { traceparent } } : rest;
    const result = await inFreshInstance(sdk, method, params);
    if (!check(result)) {
      sdk.record({ kind: "invalid-result", message: `${method} returned a value that is not a valid MCP result` });
      throw new ProtocolError(ProtocolErrorCode.InternalError, `Deployed server ${sdk.server} (v${sdk.version}) answered ${method} with a value that is not a valid MCP result`);
    }
    return result as never;
  };
  if (caps.tools) {
    server.setRequestHandler("tools/list", () => ({ tools: manifest.tools as never }));
    server.setRequestHandler("tools/call", call("tools/call", isSpecType.CallToolResult));
  }
  if (caps.resources) {
    server.setRequestHandler("resources/list", () => ({ resources: manifest.resources as never }));
    server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: manifest.resourceTemplates as never }));
    server.setRequestHandler("resources/read", call("resources/read", isSpecType.ReadResourceResult));
  }
  if (caps.prompts) {
    server.setRequestHandler("prompts/list", () => ({ prompts: manifest.prompts as never }));
    server.setRequestHandler("prompts/get", call("prompts/get", isSpecType.GetPromptResult));
  }
  if (caps.completions) server.setRequestHandler("completion/complete", call("completion/complete", isSpecType.CompleteResult));
  return mcp;
}

/** One request in an instance of its own, started and ended around it. */
async function inFreshInstance(sdk: SdkServing, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  let client: InstanceClient | undefined;
  // Its CLIENT span (tracing/client-span.ts): the instance sees that span's context as its parent.
  const call = sandboxCall({ jsonrpc: "2.0", method, params } as JSONRPCMessage, sdk.server, sdk.version);
  try {
    ({ client } = await InstanceClient.open({ start: (events) => sdk.start("stateless", events), timeoutMs: CALL_TIMEOUT_MS, noClient: NO_CLIENT }));
    const result = await client.request(method, (call.message as { params?: Record<string, unknown> }).params ?? params);
    call.end(result.isError === true ? { errorType: "tool_error" } : {});
    sdk.record(method === "tools/call" && result.isError === true ? { kind: "tenant", message: "tools/call returned isError" } : undefined);
    return result;
  } catch (err) {
    call.end({ errorType: err instanceof InstanceCallError && err.code !== undefined ? String(err.code) : "crash" });
    if (err instanceof InstanceCallError && err.code !== undefined) {
      // The server's own JSON-RPC error: passed on as it is (its author's business), code and message.
      sdk.record({ kind: "error", message: `${method}: ${await sdk.redact(err.message)}` });
      throw new ProtocolError(err.code, err.message);
    }
    const message = await sdk.redact((err as Error).message);
    sdk.record({ kind: "crash", message: `${method}: ${message}` });
    throw new ProtocolError(ProtocolErrorCode.InternalError, `Deployed server ${sdk.server} (v${sdk.version}) could not run ${method}: ${message}`);
  } finally {
    client?.close();
  }
}
