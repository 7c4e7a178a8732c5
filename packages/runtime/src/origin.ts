/**
 * DNS-rebinding guard for the MCP endpoint.
 *
 * A browser page that rebinds its own hostname to this server still sends its own
 * Origin, so the only safe test is an allow-list of origins: loopback origins (a page
 * served from localhost is the user's own) plus those an operator configured. A
 * request without Origin (every non-browser MCP client) passes.
 */

import { isLoopbackHost } from "./loopback";

export function isOriginAllowed(origin: string | null, allowed: readonly string[]): boolean {
  if (origin === null) return true;
  if (allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname);
}
