/**
 * `POST /token` (RFC 6749 §3.2): the authorization-code grant with PKCE, and the
 * refresh-token grant with rotation. `POST /revoke` (RFC 7009) is here too: it shares
 * the client authentication and the token formats.
 *
 * The Worker authenticates the client, checks the request's shape, mints the new
 * tokens and hashes them; the tenant's Durable Object (named by the code or refresh
 * token) then checks the grant and stores the digests in one step. Plaintext tokens
 * exist only in this request and in the response. Both endpoints are rate limited per
 * client address and per tenant named by the code or token (abuse-limits.ts), and a
 * code or token of an unknown tenant gets the same description as an unknown one of
 * an existing tenant. A client whose id is a metadata document's URL is checked against
 * the document (cached, or fetched again), so `/token` holds it to the redirect URIs and
 * grant types it publishes now.
 */
import { sha256Hex } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { admitOAuth } from "./abuse-limits";
import { authenticateClient, renewClient, type GrantType, type OAuthClient } from "./clients";
import { findClient } from "./client-metadata";
import { OAuthError } from "./errors";
import { UNKNOWN_CODE, UNKNOWN_REFRESH, type GrantRefusal, type Issued } from "./grant-store";
import { oauthJson, readForm } from "./http";
import { MCP_SCOPE, issuerOf, parseMcpResource } from "./resource";
import { isCodeVerifier, mintSecret, s256, tenantOf } from "./tokens";

export async function handleToken(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  await admitOAuth(env, request, "token", tenantOf("code", form.get("code")) ?? tenantOf("refresh", form.get("refresh_token")));
  const client = await authenticateClient(request, form, (id) => clientFinder(env, request, id));
  const grantType = form.get("grant_type");
  let response: Response;
  switch (grantType) {
    case "authorization_code":
      requireGrantType(client, grantType);
      response = await authorizationCodeGrant(request, env, client, form);
      break;
    case "refresh_token":
      requireGrantType(client, grantType);
      response = await refreshTokenGrant(request, env, client, form);
      break;
    case null:
      throw new OAuthError("invalid_request", "grant_type is required");
    default:
      throw new OAuthError("unsupported_grant_type", "Supported grant types: authorization_code, refresh_token");
  }
  await renewClient(env, client);
  return response;
}

async function authorizationCodeGrant(request: Request, env: Env, client: OAuthClient, form: URLSearchParams): Promise<Response> {
  const code = form.get("code");
  const verifier = form.get("code_verifier");
  const redirectUri = form.get("redirect_uri");
  if (!code) throw new OAuthError("invalid_request", "code is required");
  if (verifier === null) throw new OAuthError("invalid_request", "code_verifier is required: this server requires PKCE (S256)");
  if (!isCodeVerifier(verifier)) throw new OAuthError("invalid_grant", "code_verifier is malformed (RFC 7636 §4.1)");
  if (!redirectUri) throw new OAuthError("invalid_request", "redirect_uri is required");
  const resource = requestedResource(request, form);
  const tenant = tenantOf("code", code);
  if (!tenant) throw new OAuthError("invalid_grant", UNKNOWN_CODE);
  const access = await mintSecret("access", tenant);
  const refresh = client.grant_types.includes("refresh_token") ? await mintSecret("refresh", tenant) : null;
  const result = await tenantStub(env, tenant).oauthRedeemCode({
    codeHash: await sha256Hex(code),
    clientId: client.client_id,
    redirectUri,
    verifierChallenge: await s256(verifier),
    resource,
    accessHash: access.hash,
    refreshHash: refresh?.hash ?? null,
  });
  return tokenResponse(result, access.value, refresh?.value ?? null, UNKNOWN_CODE);
}

async function refreshTokenGrant(request: Request, env: Env, client: OAuthClient, form: URLSearchParams): Promise<Response> {
  const refreshToken = form.get("refresh_token");
  if (!refreshToken) throw new OAuthError("invalid_request", "refresh_token is required");
  const scope = form.get("scope");
  if (scope !== null && scope.split(" ").some((s) => s !== "" && s !== MCP_SCOPE)) {
    throw new OAuthError("invalid_scope", `The only scope granted here is "${MCP_SCOPE}"`);
  }
  const resource = requestedResource(request, form);
  const tenant = tenantOf("refresh", refreshToken);
  if (!tenant) throw new OAuthError("invalid_grant", UNKNOWN_REFRESH);
  const access = await mintSecret("access", tenant);
  const refresh = await mintSecret("refresh", tenant);
  const result = await tenantStub(env, tenant).oauthRefresh({
    refreshHash: await sha256Hex(refreshToken),
    clientId: client.client_id,
    resource,
    accessHash: access.hash,
    newRefreshHash: refresh.hash,
  });
  return tokenResponse(result, access.value, refresh.value, UNKNOWN_REFRESH);
}

/** `POST /revoke` (RFC 7009 §2): always 200 for a well-formed request, known token or not. */
export async function handleRevoke(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const token = form.get("token");
  const tenant = tenantOf("refresh", token) ?? tenantOf("access", token);
  await admitOAuth(env, request, "token", tenant);
  const client = await authenticateClient(request, form, (id) => clientFinder(env, request, id));
  if (!token) throw new OAuthError("invalid_request", "token is required");
  if (tenant) await tenantStub(env, tenant).oauthRevoke(await sha256Hex(token), client.client_id);
  return oauthJson({});
}

function tokenResponse(
  result: Issued | GrantRefusal | { ok: false; reason: "unknown-tenant" },
  access: string,
  refresh: string | null,
  /** What an unknown code or token of an existing tenant gets: an unknown tenant gets the same. */
  unknown: string,
): Response {
  if (!result.ok) {
    switch (result.reason) {
      case "unknown-tenant":
        throw new OAuthError("invalid_grant", unknown);
      case "invalid-grant":
        throw new OAuthError("invalid_grant", result.detail);
      case "invalid-target":
        throw new OAuthError("invalid_target", result.detail);
    }
  }
  return oauthJson({
    access_token: access,
    token_type: "Bearer",
    expires_in: Math.floor((result.accessExpiresAt - Date.now()) / 1000),
    ...(refresh ? { refresh_token: refresh } : {}),
    scope: result.scope,
  });
}

/** The optional `resource` of a token request (RFC 8707 §2.2): when sent, one of our MCP URLs. */
function requestedResource(request: Request, form: URLSearchParams): string | null {
  const value = form.get("resource");
  if (value === null) return null;
  const resource = parseMcpResource(value, issuerOf(request));
  if (!resource) throw new OAuthError("invalid_target", "resource must be an MCP URL of this server: {origin}/mcp/{tenant}/{server}");
  return resource.url;
}

/** A client for authentication: a metadata document that cannot be used is an unknown client (`invalid_client`). */
async function clientFinder(env: Env, request: Request, clientId: string | null): Promise<OAuthClient | null> {
  const found = await findClient(env, request, clientId);
  return found.ok ? found.client : null;
}

function requireGrantType(client: OAuthClient, grantType: GrantType): void {
  if (!client.grant_types.includes(grantType)) {
    throw new OAuthError("unauthorized_client", `This client did not register the ${grantType} grant`);
  }
}
