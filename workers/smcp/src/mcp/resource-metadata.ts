/**
 * RFC 9728 protected-resource metadata for one MCP URL. Tenant API keys are bearer
 * tokens issued by the admin API, so no authorization server is advertised yet.
 */
import { jsonResponse } from "@smcp/runtime";

export function protectedResourceMetadata(request: Request, tenant: string, server: string): Response {
  const origin = new URL(request.url).origin;
  return jsonResponse({
    resource: `${origin}/mcp/${tenant}/${server}`,
    authorization_servers: [],
    bearer_methods_supported: ["header"],
    resource_name: `SMCP ${tenant}/${server}`,
  });
}
