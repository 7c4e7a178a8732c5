/**
 * A `subscriptions/listen` stream lives as long as its client keeps it, far longer than
 * the few seconds an isolate trusts a credential check (authenticate.ts). So the stream
 * checks its credential again every CREDENTIAL_RECHECK_MS, as a new request would but
 * past the isolate's cache (one tenant-object call per open stream per interval; the
 * streams are capped per tenant): once its key or OAuth grant is revoked (or its access
 * token expired, or the tenant was deleted) the stream gets a JSON-RPC error for the
 * listen's id and ends, within CREDENTIAL_RECHECK_MS plus one round trip (SPEC: within
 * 10 seconds). The check runs where the stream is held, so it works in every isolate
 * with no message between them.
 *
 * A check that cannot be made (the tenant object unreachable) leaves the stream open:
 * only a refusal ends it.
 */
export const CREDENTIAL_RECHECK_MS = 3_000;

/** Whether the stream's credential still admits it; a thrown error counts as "could not tell". */
export type CredentialCheck = () => Promise<boolean>;

/**
 * `response` (an SSE listen stream) that ends with a JSON-RPC error for `id` once `stillValid`
 * answers false. Ending cancels the original body, which releases what it holds (bus
 * subscription, listen slot).
 */
export function endWhenRevoked(response: Response, id: string | number | null, stillValid: CredentialCheck, everyMs = CREDENTIAL_RECHECK_MS): Response {
  if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
  const reader = response.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const stop = () => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const check = async () => {
        const valid = await stillValid().catch(() => true);
        if (done) return;
        if (valid) {
          timer = setTimeout(check, everyMs);
          return;
        }
        stop();
        const error = { jsonrpc: "2.0", id, error: { code: -32600, message: "This stream's credential was revoked or expired: the listen ended. Listen again with a valid credential." } };
        try {
          controller.enqueue(new TextEncoder().encode(`event: message\ndata: ${JSON.stringify(error)}\n\n`));
          controller.close();
        } catch {
          // The client went away meanwhile.
        }
        reader.cancel("credential revoked").catch(() => {});
      };
      timer = setTimeout(check, everyMs);
    },
    async pull(controller) {
      try {
        const next = await reader.read();
        if (done) return;
        if (next.done) {
          stop();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (err) {
        if (done) return;
        stop();
        controller.error(err);
      }
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
