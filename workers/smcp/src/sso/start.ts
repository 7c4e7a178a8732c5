/**
 * Starts a person's sign-in at the tenant's identity provider, from the approval page's
 * "Sign in with …" link (`GET /authorize?…&sso=start`, after every check of the MCP
 * client's request): authorization code flow with PKCE (S256), `state` and `nonce`
 * (OpenID Connect Core 1.0 §3.1.2.1), scope `openid email` (and `groups` when the
 * tenant's rule reads a groups claim). The pending authorization travels sealed in
 * `state` (sign-in-state.ts), so starting a sign-in, which needs no credential, writes
 * nothing. The provider's metadata comes from its discovery document (provider.ts); a
 * provider that cannot be used gets the page that says so, with its issuer.
 */
import { platformConfig, randomToken } from "@smcp/runtime";
import type { Env } from "../env";
import { admitMetadataFetch } from "../oauth/abuse-limits";
import { errorPage, providerUnavailablePage } from "../oauth/authorize-page";
import { redirectTo } from "../oauth/http";
import { s256 } from "../oauth/tokens";
import { secretsKeyring } from "../sandbox/secrets-env";
import type { StoredIdentity } from "../tenant/identity";
import { discoverProvider } from "./provider";
import { SIGN_IN_TTL_MS, sealSignIn, type PendingSignIn } from "./sign-in-state";

/** Our redirect URI at every provider: the tenant's admin registers it with their provider. */
export const SSO_CALLBACK_PATH = "/oauth/sso/callback";
export const ssoCallbackUrl = (origin: string) => `${origin}${SSO_CALLBACK_PATH}`;

/** The MCP client's checked request, as the sign-in carries it. */
export type ClientRequest = Omit<PendingSignIn, "issuer" | "providerClientId" | "identityUpdatedAt" | "verifier" | "nonce" | "expiresAt">;

export async function startSignIn(env: Env, request: Request, origin: string, client: ClientRequest, identity: StoredIdentity): Promise<Response> {
  const keyring = await secretsKeyring(env);
  if (!keyring.ok) return errorPage(`Single sign-on is unavailable on this platform: ${keyring.detail}. Tell the platform's operator.`, 503);
  const policy = { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS };
  const provider = await discoverProvider(identity.issuer, policy, (host) => admitMetadataFetch(env, request, host));
  if (!provider.ok) return providerUnavailablePage(identity.issuer, provider.detail);

  const verifier = randomToken(32);
  const nonce = randomToken(24);
  const state = await sealSignIn(keyring.keyring, {
    ...client,
    issuer: identity.issuer,
    providerClientId: identity.clientId,
    identityUpdatedAt: identity.updatedAt,
    verifier,
    nonce,
    expiresAt: Date.now() + SIGN_IN_TTL_MS,
  });
  const scope = identity.allow.groups ? "openid email groups" : "openid email";
  return redirectTo(provider.value.authorizationEndpoint, {
    response_type: "code",
    client_id: identity.clientId,
    redirect_uri: ssoCallbackUrl(origin),
    scope,
    state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  });
}
