/**
 * The Worker's half of "nothing left hanging" (SPEC section 3): when the session object
 * dies while the Worker still holds the client's connection, the Worker answers each of
 * the request's JSON-RPC requests with an error itself: as the whole response when the
 * object never answered, or as SSE events appended to a stream that broke off. (The
 * object's half: after a restart it writes the same error on the stream of every request
 * left unanswered, for a client resuming with `Last-Event-ID`; session-do.ts.)
 *
 * A stream that broke off after some of its answers were sent gets an error for every
 * request of the body: the client drops an answer to an id it no longer waits for.
 */
import { JsonRpcCode, WireError, jsonRpcErrorResponse } from "@smcp/runtime";

const MESSAGE = "Request interrupted: the session's server stopped before answering; it may or may not have taken effect. Send it again if that is safe";

const interrupted = () => new WireError({ status: 503, code: "session_interrupted", rpcCode: JsonRpcCode.InternalError, message: MESSAGE });

/** The ids of the JSON-RPC requests in a POST body. */
export function requestIdsOf(json: unknown): (string | number)[] {
  return (Array.isArray(json) ? json : [json])
    .filter((m): m is { id: string | number; method: string } => typeof m === "object" && m !== null && "method" in m && (typeof m.id === "string" || typeof m.id === "number"))
    .map((m) => m.id);
}

/** `call()`'s response, or the Worker's own error answer when the session object died on the way. */
export async function answeredDespiteInterruption(call: () => Promise<Response>, requestIds: (string | number)[]): Promise<Response> {
  let response: Response;
  try {
    response = await call();
  } catch {
    return jsonRpcErrorResponse(interrupted(), requestIds[0] ?? null);
  }
  if (!requestIds.length || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
  const upstream = response.body.getReader();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await upstream.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        for (const id of requestIds) {
          const error = { jsonrpc: "2.0", id, error: { code: JsonRpcCode.InternalError, message: MESSAGE } };
          controller.enqueue(encoder.encode(`\nevent: message\ndata: ${JSON.stringify(error)}\n\n`));
        }
        controller.close();
      }
    },
    cancel: (reason) => upstream.cancel(reason),
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
