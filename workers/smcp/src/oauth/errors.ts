/**
 * The OAuth error family, in one place.
 *
 * OAuth endpoints answer `{ error, error_description }` (RFC 6749 §5.2, RFC 7591
 * §3.2.2, RFC 7009 §2.2.1), not the platform's `{ error: { code, message } }`, because
 * that is the shape OAuth clients parse. Handlers throw `OAuthError`; only
 * `oauthErrorResponse` (http.ts) builds the bodies. The MCP endpoint's refusal of a
 * bad access token is a platform `WireError` instead (that endpoint answers JSON-RPC),
 * carrying the RFC 6750 challenge.
 */
import { WireError } from "@smcp/runtime";

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "access_denied"
  | "unsupported_response_type"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  /** Over a rate limit (abuse-limits.ts): sent with 429 and Retry-After. */
  | "temporarily_unavailable";

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: OAuthErrorCode, description: string, status = 400, headers: Record<string, string> = {}) {
    super(description);
    this.name = "OAuthError";
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}

/** One description for every refused token, so the answer does not tell which check failed. */
const INVALID_TOKEN = "The access token is invalid, expired or revoked, or was issued for another MCP server";

/**
 * The 401 for a bearer token that is not a live access token for this MCP URL
 * (RFC 6750 §3.1), still naming the RFC 9728 metadata so the client can start over.
 */
export function invalidTokenError(resourceMetadataUrl: string): WireError {
  return new WireError({
    status: 401,
    code: "invalid_token",
    message: INVALID_TOKEN,
    headers: {
      "WWW-Authenticate": `Bearer error="invalid_token", error_description="${INVALID_TOKEN}", resource_metadata="${resourceMetadataUrl}"`,
    },
  });
}
