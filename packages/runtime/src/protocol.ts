/**
 * Facts about MCP protocol revisions that the platform routes on. Which lane serves
 * a request is the SDK's decision (`isLegacyRequest`); this module holds only what
 * the SDK leaves to the host.
 */

/** Revisions served by the session lane. */
export const SESSION_REVISIONS = ["2025-03-26", "2025-06-18", "2025-11-25"] as const;

/** The stateless revision, served by `createMcpHandler`. */
export const STATELESS_REVISION = "2026-07-28";

/**
 * Every revision an `MCP-Protocol-Version` header may name at one MCP URL, newest first:
 * the stateless one, then what the SDK's session transport accepts (2024 revisions too).
 */
export const SERVED_REVISIONS = [STATELESS_REVISION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"] as const;

/** What the SDK negotiates when a client asks for a revision it does not know. */
export const LATEST_SESSION_REVISION = "2025-11-25";

/** SPEC section 3: JSON-RPC batches exist only in 2025-03-26. */
export function batchesAllowed(revision: string): boolean {
  return revision === "2025-03-26";
}

