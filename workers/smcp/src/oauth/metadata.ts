/**
 * RFC 8414 authorization-server metadata. The issuer is the origin the request
 * reached, so the document is right for `wrangler dev`, workers.dev and a custom
 * domain alike, and it matches the `authorization_servers` entry of every protected
 * resource's RFC 9728 document (clients compare the two exactly). It advertises Client
 * ID Metadata Documents, which clients of 2026 prefer; `registration_endpoint` stays
 * for clients that have none.
 */
import { TOKEN_ENDPOINT_AUTH_METHODS, GRANT_TYPES } from "./clients";
import { CORS_HEADERS } from "./http";
import { MCP_SCOPE, issuerOf } from "./resource";

export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    scopes_supported: [MCP_SCOPE],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [...GRANT_TYPES],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
    // draft-ietf-oauth-client-id-metadata-document: an https client_id is fetched (client-metadata.ts).
    client_id_metadata_document_supported: true,
  };
}

export async function serveAuthorizationServerMetadata(request: Request): Promise<Response> {
  return new Response(JSON.stringify(authorizationServerMetadata(issuerOf(request))), {
    headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300", ...CORS_HEADERS },
  });
}
