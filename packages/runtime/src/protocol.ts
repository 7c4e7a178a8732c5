/**
 * Facts about MCP protocol revisions that the platform routes on. Which lane serves
 * a request is the SDK's decision (`isLegacyRequest`); this module holds only what
 * the SDK leaves to the host.
 */

/** Revisions served by the session lane. */
export const SESSION_REVISIONS = ["2025-03-26", "2025-06-18", "2025-11-25"] as const;

/** What the SDK negotiates when a client asks for a revision it does not know. */
export const LATEST_SESSION_REVISION = "2025-11-25";

/** SPEC section 3: JSON-RPC batches exist only in 2025-03-26. */
export function batchesAllowed(revision: string): boolean {
  return revision === "2025-03-26";
}

