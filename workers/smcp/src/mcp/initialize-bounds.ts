/**
 * Bounds on what a client says of itself in `initialize`, checked before anything
 * stores it: the session keeps the params (to rebuild the SDK session after eviction)
 * and the tenant keeps `clientInfo` in its session index and its name in the audit log.
 * Checked at the edge (session-lane.ts) and again in the session object, which must
 * not trust that every caller went through the edge. Pure, so the unit tier tests it.
 */

/** Longest `clientInfo.name`, `.version` and `.title`, in characters (UTF-16 code units). */
export const CLIENT_INFO_FIELD_MAX_CHARS = 256;
/** Largest `clientInfo` as JSON, in UTF-8 bytes. */
export const CLIENT_INFO_MAX_BYTES = 4096;
/** Largest `initialize` params as JSON, in UTF-8 bytes. */
export const INITIALIZE_PARAMS_MAX_BYTES = 16 * 1024;

const encoder = new TextEncoder();
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value) ?? "").byteLength;

/** Why these `initialize` params are refused (a message for the client), or null when they are within bounds. */
export function initializeParamsProblem(params: unknown): string | null {
  if (typeof params !== "object" || params === null) return "initialize needs params";
  // The named fields first, so the message says which one is too long.
  const clientInfo = (params as { clientInfo?: unknown }).clientInfo;
  if (typeof clientInfo !== "object" || clientInfo === null) return "initialize needs clientInfo";
  for (const field of ["name", "version", "title"] as const) {
    const value = (clientInfo as Record<string, unknown>)[field];
    if (value === undefined && field === "title") continue;
    if (typeof value !== "string") return `clientInfo.${field} must be a string`;
    if (value.length > CLIENT_INFO_FIELD_MAX_CHARS) {
      return `clientInfo.${field} is ${value.length} characters; at most ${CLIENT_INFO_FIELD_MAX_CHARS} are accepted`;
    }
  }
  const infoBytes = jsonBytes(clientInfo);
  if (infoBytes > CLIENT_INFO_MAX_BYTES) return `clientInfo is ${infoBytes} bytes as JSON; at most ${CLIENT_INFO_MAX_BYTES} are accepted`;
  const paramsBytes = jsonBytes(params);
  if (paramsBytes > INITIALIZE_PARAMS_MAX_BYTES) {
    return `initialize params are ${paramsBytes} bytes as JSON; at most ${INITIALIZE_PARAMS_MAX_BYTES} are accepted`;
  }
  return null;
}
