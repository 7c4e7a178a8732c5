/**
 * The closed set of error kinds a request is counted under (label `kind` of
 * `smcp_errors_total`). Closed, so that nothing a client or a tenant's server sends can
 * add a label value; each kind says whose problem it is:
 * - `protocol`: the client's request was refused (a JSON-RPC error -32700, -32600,
 *   -32601, -32602, or an HTTP 4xx rejection other than the ones below);
 * - `tool`: a `tools/call` answered with a result whose `isError` is true (the tool ran and failed);
 * - `auth`: 401 or 403 answered to an authenticated caller (a credential revoked by the time
 *   its session starts); failed authentications are the tenant's auth-failure tally, not metrics;
 * - `limit`: a platform limit refused it (429: rate, sessions, instances, streams; 413: body size);
 * - `upstream`: any other error answered for a server that fronts an upstream (gateway);
 * - `sandbox`: any other error answered for a deployed server (its sandbox failed, timed out or erred);
 * - `internal`: any other error answered for a built-in server or by the platform itself.
 * The kind is decided from codes, statuses and the kind of server only, never from message text.
 */

export const ERROR_KINDS = ["protocol", "tool", "auth", "limit", "upstream", "sandbox", "internal"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What serves the request, for errors that are the server's own. */
export type ServerKind = "built-in" | "deployed" | "upstream";

const CLIENT_CODES = new Set([-32700, -32600, -32601, -32602]);

/** The kind of a JSON-RPC error answer with `code`, from a server of `server` kind. */
export function kindOfRpcError(code: unknown, server: ServerKind): ErrorKind {
  if (typeof code === "number" && CLIENT_CODES.has(code)) return "protocol";
  return server === "upstream" ? "upstream" : server === "deployed" ? "sandbox" : "internal";
}

/** The kind of an HTTP refusal with `status` (>= 400) answered before any JSON-RPC answer. */
export function kindOfHttpStatus(status: number, server: ServerKind = "built-in"): ErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429 || status === 413) return "limit";
  if (status < 500) return "protocol";
  return server === "upstream" ? "upstream" : server === "deployed" ? "sandbox" : "internal";
}

export const errorKindIndex = (kind: ErrorKind): number => ERROR_KINDS.indexOf(kind);
