/**
 * A priming event for the standalone GET stream.
 *
 * The SDK primes the streams of POST requests but not the standalone GET stream, so a
 * client whose idle GET stream drops has no id to resume from. We store a priming
 * event in the log and put it (with the `retry:` hint) in front of the SDK's stream.
 * As in the SDK, only clients of 2025-11-25 or later get an empty-data event; older
 * clients would try to parse it as a message.
 */
import type { SqliteEventLog } from "@smcp/runtime";

export const STANDALONE_STREAM_ID = "_GET_stream";

export function primeStandaloneStream(response: Response, log: SqliteEventLog, protocolVersion: string, retryMs: number): Response {
  if (!response.body || protocolVersion < "2025-11-25") return response;
  const eventId = log.append(STANDALONE_STREAM_ID, "{}");
  const priming = new TextEncoder().encode(`id: ${eventId}\nretry: ${retryMs}\ndata: \n\n`);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(priming);
    },
  });
  response.body.pipeTo(writable).catch(() => {});
  return new Response(readable, { status: response.status, headers: response.headers });
}
