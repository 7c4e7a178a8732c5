/**
 * `GET POST /authorize`: the authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1).
 *
 * SMCP has no user accounts. Whoever holds an API key of the tenant named by the
 * `resource` parameter (RFC 8707; it must be one of our MCP URLs) may approve a client
 * for that one MCP URL: GET shows a form asking for the key, POST checks it through
 * the tenant's Durable Object (`authorize(server, keyHash)`, the same check as the MCP
 * endpoint's) and redirects to the client with a code. The grant records the key's
 * id, so revoking the key ends the grant.
 *
 * Both methods run the same request check. Errors about the client or its redirect URI
 * are shown here and never redirected (RFC 6749 §4.1.2.1). Every other error goes
 * back to the client with `state` and `iss` (RFC 9207) only when the client has
 * redeemed a code with the tenant the request names (recorded by the grant store):
 * registration is open, so until then a redirect URI is only what a stranger wrote,
 * and redirecting errors to it would make this origin an open redirector for phishing
 * (RFC 9700 §4.11.2). Such a client's errors, a denial included, are shown here.
 *
 * Both methods are rate limited per client address and per tenant (abuse-limits.ts);
 * over a limit the page says so (429), without looking at the client.
 *
 * A tenant with an identity provider (tenant/identity.ts) gets a "Sign in with …" link
 * instead: `GET /authorize?…&sso=start` repeats every check and hands the request to
 * sso/start.ts, which sends the person to the provider; sso/callback.ts finishes. Its
 * page takes a key only when the identity sets `allowKeyApproval`.
 *
 * A `client_id` that is an https URL names a Client ID Metadata Document
 * (client-metadata.ts): the page shows the document's name and redirect URIs, says
 * which host published it, and explains on our own page why a document is refused.
 */
import { sha256Hex } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { admitOAuth } from "./abuse-limits";
import { errorPage, consentPage } from "./authorize-page";
import { matchRedirectUri, type OAuthClient } from "./clients";
import { findClient } from "./client-metadata";
import { isMetadataClientId } from "./client-metadata-document";
import { OAuthError, type OAuthErrorCode } from "./errors";
import { readForm, redirectTo } from "./http";
import { MCP_SCOPE, issuerOf, parseMcpResource, type McpResource } from "./resource";
import { isS256Challenge, isWellFormedTenantKey, mintSecret } from "./tokens";
import { startSignIn } from "../sso/start";
import type { StoredIdentity } from "../tenant/identity";

/** The parameters of an authorization request that the form carries from GET to POST. */
const REQUEST_PARAMS = ["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state", "scope", "resource"];
const MAX_STATE_LENGTH = 2048;

interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  resource: McpResource;
  params: URLSearchParams;
}

type RequestCheck =
  | { ok: true; value: AuthorizationRequest }
  /** The client or redirect URI cannot be trusted: answer on our own page. */
  | { ok: false; reason: "unknown-client" | "bad-redirect-uri" }
  /** A metadata document client_id that could not be used, and why. */
  | { ok: false; reason: "bad-document"; clientId: string; detail: string }
  /** An error for the client: redirected to it once it is trusted (`refuse`). */
  | { ok: false; reason: "redirect"; back: ErrorTarget; error: OAuthErrorCode; description: string };

/** Where an error may go back to, and the tenant whose trust in the client decides whether it does. */
interface ErrorTarget {
  clientId: string;
  redirectUri: string;
  state: string | null;
  tenant: string | null;
  issuer: string;
}

export async function handleAuthorize(request: Request, env: Env): Promise<Response> {
  const issuer = issuerOf(request);
  let params: URLSearchParams;
  if (request.method === "POST") {
    const origin = request.headers.get("origin");
    // A browser always sends Origin on a form POST: refuse posts from other sites' pages.
    if (origin !== null && origin !== issuer) return errorPage("This form can only be submitted from this server's own page.", 403);
    try {
      params = await readForm(request);
    } catch (err) {
      if (err instanceof OAuthError) return errorPage(err.message, err.status);
      throw err;
    }
  } else {
    params = new URL(request.url).searchParams;
  }

  try {
    await admitOAuth(env, request, "authorize", parseMcpResource(params.get("resource"), issuer)?.tenant ?? null);
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(err.message, err.status, err.headers);
    throw err;
  }

  let check: RequestCheck;
  try {
    check = await checkRequest(env, request, params, issuer);
  } catch (err) {
    // Over the limits of metadata document fetches.
    if (err instanceof OAuthError) return errorPage(err.message, err.status, err.headers);
    throw err;
  }
  if (!check.ok) {
    switch (check.reason) {
      case "unknown-client":
        return errorPage("Unknown client: client_id is missing or not registered here. Register the client again and retry.", 400);
      case "bad-document":
        return errorPage(`The client's metadata document at ${check.clientId} cannot be used: ${check.detail}.`, 400);
      case "bad-redirect-uri":
        return errorPage("redirect_uri is missing or is not one of the client's registered redirect URIs.", 400);
      case "redirect":
        return refuse(env, check.back, check.error, check.description);
    }
  }
  const req = check.value;
  const found = await tenantStub(env, req.resource.tenant).identityGet();
  const identity = found.ok ? found.value : null;
  if (request.method !== "POST") {
    if (identity && req.params.get("sso") === "start") {
      try {
        return await startSignIn(env, request, issuer, pendingOf(req), identity);
      } catch (err) {
        // Over the limits of provider fetches.
        if (err instanceof OAuthError) return errorPage(err.message, err.status, err.headers);
        throw err;
      }
    }
    return consentPage(viewOf(req, identity));
  }
  return approve(env, req, issuer, identity);
}

/** The checked request as a sign-in carries it through the provider (sso/sign-in-state.ts). */
function pendingOf(req: AuthorizationRequest) {
  return {
    tenant: req.resource.tenant,
    server: req.resource.server,
    resource: req.resource.url,
    clientId: req.client.client_id,
    clientName: req.client.client_name ?? null,
    redirectUri: req.redirectUri,
    codeChallenge: req.codeChallenge,
    clientState: req.state,
  };
}

/** The POST: deny, or check the key and answer with a code. */
async function approve(env: Env, req: AuthorizationRequest, issuer: string, identity: StoredIdentity | null): Promise<Response> {
  const target: ErrorTarget = { clientId: req.client.client_id, redirectUri: req.redirectUri, state: req.state, tenant: req.resource.tenant, issuer };
  if (req.params.get("decision") === "deny") return refuse(env, target, "access_denied", "The request was denied");
  // A tenant with an identity provider approves by sign-in; a key only when it allows both.
  if (identity && !identity.allowKeyApproval) {
    return consentPage({ ...viewOf(req, identity), error: "This tenant approves clients by signing in with its identity provider, not with an API key." }, 403);
  }
  const key = req.params.get("api_key");
  if (!key) return consentPage({ ...viewOf(req, identity), error: "Enter an API key of this tenant." }, 400);
  // A value that cannot be a key costs no Durable Object call and writes nothing.
  if (!isWellFormedTenantKey(key.trim())) {
    return consentPage({ ...viewOf(req, identity), error: "That is not an SMCP tenant key: keys look like smcp_sk_ followed by 43 letters, digits, - or _." }, 401);
  }

  const { tenant, server, url: resource } = req.resource;
  const tenantDO = tenantStub(env, tenant);
  const decision = await tenantDO.authorize(server, await sha256Hex(key.trim()));
  if (!decision.ok) {
    switch (decision.reason) {
      case "unknown-tenant":
      case "invalid-key":
        // One message for both: the page does not reveal which tenants exist.
        return consentPage({ ...viewOf(req, identity), error: "That key is not a valid, unrevoked API key of this tenant." }, 401);
      case "unknown-server":
        return refuse(env, target, "invalid_target", `Server ${server} is not enabled for tenant ${tenant}`);
    }
  }
  const code = await mintSecret("code", tenant);
  const issued = await tenantDO.oauthIssueCode({
    codeHash: code.hash,
    clientId: req.client.client_id,
    clientName: req.client.client_name ?? null,
    server,
    resource,
    keyId: decision.keyId,
    redirectUri: req.redirectUri,
    codeChallenge: req.codeChallenge,
    scope: MCP_SCOPE,
  });
  if (!issued.ok) return refuse(env, target, "invalid_target", "Unknown tenant");
  return redirectTo(req.redirectUri, { code: code.value, state: req.state, iss: issuer });
}

async function checkRequest(env: Env, request: Request, params: URLSearchParams, issuer: string): Promise<RequestCheck> {
  const found = await findClient(env, request, params.get("client_id"));
  if (!found.ok) {
    return found.reason === "document"
      ? { ok: false, reason: "bad-document", clientId: params.get("client_id")!.slice(0, 300), detail: found.detail }
      : { ok: false, reason: "unknown-client" };
  }
  const client = found.client;
  const redirectUri = matchRedirectUri(client, params.get("redirect_uri"));
  if (!redirectUri) return { ok: false, reason: "bad-redirect-uri" };
  const state = params.get("state");
  const resource = parseMcpResource(params.get("resource"), issuer);
  const fail = (error: OAuthErrorCode, description: string): RequestCheck => ({
    ok: false,
    reason: "redirect",
    back: {
      clientId: client.client_id,
      redirectUri,
      state: state !== null && state.length <= MAX_STATE_LENGTH ? state : null,
      tenant: resource?.tenant ?? null,
      issuer,
    },
    error,
    description,
  });
  if (params.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
  if (!client.grant_types.includes("authorization_code")) return fail("unauthorized_client", "The client did not register the authorization_code grant");
  if (state !== null && state.length > MAX_STATE_LENGTH) return fail("invalid_request", "state is too long");
  const codeChallenge = params.get("code_challenge");
  if (params.get("code_challenge_method") !== "S256" || !isS256Challenge(codeChallenge)) {
    return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");
  }
  if (!resource) return fail("invalid_target", `resource must be the MCP URL to authorize: ${issuer}/mcp/{tenant}/{server}`);
  return { ok: true, value: { client, redirectUri, state, codeChallenge, resource, params } };
}

function viewOf(req: AuthorizationRequest, identity: StoredIdentity | null) {
  const hidden = REQUEST_PARAMS.flatMap((name): [string, string][] => {
    const value = req.params.get(name);
    return value === null ? [] : [[name, value]];
  });
  const start = new URLSearchParams([...hidden, ["sso", "start"]]);
  return {
    signIn: identity ? { issuer: identity.issuer, startUrl: `/authorize?${start}`, keyApproval: identity.allowKeyApproval } : null,
    clientName: req.client.client_name ?? null,
    clientId: req.client.client_id,
    documentHost: isMetadataClientId(req.client.client_id) ? new URL(req.client.client_id).host : null,
    redirectUris: req.client.redirect_uris,
    redirectUri: req.redirectUri,
    tenant: req.resource.tenant,
    server: req.resource.server,
    resource: req.resource.url,
    hidden,
  };
}

/**
 * An error of a request whose client and redirect URI are registered: redirected to
 * the client when it has redeemed a code with the named tenant, shown here otherwise.
 */
async function refuse(env: Env, to: ErrorTarget, error: OAuthErrorCode, description: string): Promise<Response> {
  if (to.tenant !== null && (await tenantStub(env, to.tenant).oauthClientTrusted(to.clientId)) === true) {
    return redirectTo(to.redirectUri, { error, error_description: description, state: to.state, iss: to.issuer });
  }
  if (error === "access_denied") return errorPage("You denied the request. The client was not given access; you can close this page.", 403);
  return errorPage(
    `${description} (${error}). This client has not yet completed an authorization with this tenant, so it is not sent back to it.`,
    400,
  );
}
