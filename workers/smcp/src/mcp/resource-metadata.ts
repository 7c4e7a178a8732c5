/**
 * RFC 9728 protected-resource metadata for one MCP URL. It names SMCP's own
 * authorization server (this origin, see oauth/), which issues tokens bound to this
 * one MCP URL. Tenant API keys keep working beside those tokens.
 */
import { jsonResponse } from "@smcp/runtime";
import { CORS_HEADERS } from "../oauth/http";
import { MCP_SCOPE } from "../oauth/resource";

export function protectedResourceMetadata(request: Request, tenant: string, server: string): Response {
  const origin = new URL(request.url).origin;
  return jsonResponse(
    {
      resource: `${origin}/mcp/${tenant}/${server}`,
      authorization_servers: [origin],
      scopes_supported: [MCP_SCOPE],
      bearer_methods_supported: ["header"],
      resource_name: `SMCP ${tenant}/${server}`,
    },
    200,
    CORS_HEADERS,
  );
}
