/**
 * SMCP's protected resources (RFC 8707, RFC 9728): every MCP URL
 * `{origin}/mcp/{tenant}/{server}` is a resource of its own, and the audience of every
 * token issued for it. The authorization server is the Worker's own origin.
 *
 * Resources are not a list fixed at deploy time: they appear when an admin creates a
 * tenant or enables a server, so a resource indicator is recognised by its shape and
 * then checked against the tenant's Durable Object.
 */
import { isValidSegment } from "@smcp/runtime";

/** The one scope SMCP grants: use of the single MCP server the token's audience names. */
export const MCP_SCOPE = "mcp";

export interface McpResource {
  tenant: string;
  server: string;
  /** The canonical spelling: what tokens are bound to. */
  url: string;
}

/** The issuer of this deployment (RFC 8414 §2): the origin the request reached. */
export function issuerOf(request: Request): string {
  return new URL(request.url).origin;
}

export function mcpResourceUrl(origin: string, tenant: string, server: string): string {
  return `${origin}/mcp/${tenant}/${server}`;
}

export function resourceMetadataUrl(origin: string, tenant: string, server: string): string {
  return `${origin}/.well-known/oauth-protected-resource/mcp/${tenant}/${server}`;
}

/**
 * The tenant and server a `resource` parameter names, when it is one of this origin's
 * MCP URLs: same origin, path `/mcp/{tenant}/{server}`, no query, fragment or user info.
 */
export function parseMcpResource(value: string | null | undefined, origin: string): McpResource | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.origin !== origin || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") return null;
  if (value.includes("#") || value.includes("?")) return null;
  const match = /^\/mcp\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!match || !isValidSegment(match[1]) || !isValidSegment(match[2])) return null;
  return { tenant: match[1], server: match[2], url: mcpResourceUrl(origin, match[1], match[2]) };
}
