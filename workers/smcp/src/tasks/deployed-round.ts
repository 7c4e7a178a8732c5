/**
 * One round of a deployed SDK server's task, in a fresh instance of the version the task
 * was created on. The instance is served on the 2026-07-28 revision, without
 * `initialize`, when the harness could bind the server to it (an SDK v2 server it builds:
 * a createServer factory, or serveStdio): then a handler that returns the SDK's
 * `inputRequired(...)` answers an `input_required` result, the task waits for
 * `tasks/update`, and the next round sends the gathered `inputResponses` (and the
 * server's `requestState`) back, exactly as for a built-in (run-round.ts). A server that
 * connects its own transport is 2025-era: it gets the handshake, and a request of its to
 * the client gets the stateless lane's "no client" error, as before.
 *
 * The request's `_meta` is the envelope the client sent with its task-augmented call
 * (protocol version, client capabilities): the server checks its input requests against
 * what that client declared.
 */
import { isSpecType } from "@modelcontextprotocol/server";
import { STATELESS_REVISION } from "@smcp/runtime";
import { InstanceCallError, InstanceClient } from "../sandbox/sdk/instance-client";
import type { SdkServing } from "../sandbox/sdk/serving";
import { CALL_TIMEOUT_MS, NO_CLIENT } from "../sandbox/sdk/stateless-server";
import { withoutEnvelope, type RoundOutcome } from "./run-round";
import type { TaskCall } from "./task-record";

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Never throws: every failure is an outcome, its message redacted of the server's secrets. */
export async function runDeployedRound(sdk: SdkServing, call: TaskCall, signal: AbortSignal): Promise<RoundOutcome> {
  let client: InstanceClient | undefined;
  const fail = (message: string): RoundOutcome => ({ kind: "error", error: { code: -32603, message } });
  try {
    const opened = await InstanceClient.openForRound({ start: (events) => sdk.start("task", events, STATELESS_REVISION), timeoutMs: CALL_TIMEOUT_MS, noClient: NO_CLIENT }, STATELESS_REVISION);
    client = opened.client;
    if (signal.aborted) return fail("The task was stopped");
    // Closing the instance does not answer its pending request: the abort does, at once.
    let stop = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = () => {
        client?.close();
        reject(new Error("stopped"));
      };
    });
    stopped.catch(() => {});
    signal.addEventListener("abort", stop, { once: true });
    const params: Record<string, unknown> = { name: call.name, arguments: call.arguments ?? {} };
    if (opened.modern) {
      params._meta = { ...call.meta, "io.modelcontextprotocol/protocolVersion": STATELESS_REVISION };
      if (call.inputResponses) params.inputResponses = call.inputResponses;
      if (call.requestState !== undefined) params.requestState = call.requestState;
    }
    const result = await Promise.race([client.request("tools/call", params), stopped]);
    signal.removeEventListener("abort", stop);
    if (opened.modern && result.resultType === "input_required") {
      const { inputRequests, requestState } = result as { inputRequests?: unknown; requestState?: unknown };
      if (!isRecord(inputRequests) || (requestState !== undefined && typeof requestState !== "string")) {
        sdk.record({ kind: "invalid-result", message: "tools/call returned a malformed input_required result" });
        return fail(`Deployed server ${sdk.server} (v${sdk.version}) asked for input with a malformed input_required result`);
      }
      sdk.record();
      return { kind: "input_required", inputRequests, ...(typeof requestState === "string" ? { requestState } : {}) };
    }
    const { resultType: _resultType, ...plain } = result;
    if (!isSpecType.CallToolResult(plain)) {
      sdk.record({ kind: "invalid-result", message: "tools/call returned a value that is not a valid MCP result" });
      return fail(`Deployed server ${sdk.server} (v${sdk.version}) answered tools/call with a value that is not a valid MCP result`);
    }
    sdk.record(plain.isError === true ? { kind: "tenant", message: "tools/call returned isError" } : undefined);
    return { kind: "complete", result: withoutEnvelope(plain) };
  } catch (err) {
    // Cancelled or expired: the instance was closed on purpose, which is no failure of the server's.
    if (signal.aborted) return fail("The task was stopped");
    const message = await sdk.redact(err instanceof Error ? err.message : String(err));
    if (err instanceof InstanceCallError && err.code !== undefined) {
      // The server's own JSON-RPC error, passed on as it is (its author's business).
      sdk.record({ kind: "error", message: `tools/call: ${message}` });
      return { kind: "error", error: { code: err.code, message } };
    }
    sdk.record({ kind: "crash", message: `tools/call: ${message}` });
    return fail(`Deployed server ${sdk.server} (v${sdk.version}) could not run the task's tools/call: ${message}`);
  } finally {
    client?.close();
  }
}
