/**
 * `GET /oauth/sso/callback`: where the tenant's identity provider sends the person back
 * (OpenID Connect Core 1.0 §3.1.2.5). The sealed `state` (sign-in-state.ts) names the
 * pending authorization; the provider's code is redeemed at its token endpoint with our
 * PKCE verifier (token-exchange.ts); the ID token is verified against the provider's
 * keys (id-token.ts: signature, `iss`, `aud`, `exp`, `iat`, `nonce`); the tenant's allow
 * rule decides (allow-rule.ts). Only then does anything get written: the tenant's object
 * records the nonce as used and the grant with the person's subject, in one step
 * (TenantDO.ssoIssueCode), and the MCP client gets its code, its `state` and `iss`.
 *
 * Every way this can end without access has its own page and writes no grant: an
 * outsider (403), an ID token that does not verify (403), a replayed nonce (403), a
 * provider that is down or answers garbage (502, naming the issuer), a state that is
 * forged or too old (400). Refusals after the state opened count toward the tenant's
 * aggregated `auth.failed` audit rows, never one row each.
 */
import { openSecret, platformConfig, sha256Hex } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { admitMetadataFetch, admitOAuth } from "../oauth/abuse-limits";
import { errorPage, providerUnavailablePage, signInRefusedPage } from "../oauth/authorize-page";
import { OAuthError } from "../oauth/errors";
import { redirectTo } from "../oauth/http";
import { MCP_SCOPE, issuerOf } from "../oauth/resource";
import { mintSecret } from "../oauth/tokens";
import { secretsKeyring } from "../sandbox/secrets-env";
import type { AuthFailureReason } from "../tenant/auth-failures";
import { identitySecretBinding } from "../tenant/identity";
import { applyAllowRule } from "./allow-rule";
import { verifyIdToken, type IdTokenFailure } from "./id-token";
import { discoverProvider, providerKeys } from "./provider";
import { SIGN_IN_TTL_MS, openSignIn } from "./sign-in-state";
import { ssoCallbackUrl } from "./start";
import { exchangeCode } from "./token-exchange";

const ID_TOKEN_REFUSALS: Record<IdTokenFailure, string> = {
  malformed: "the ID token is malformed",
  "unsupported-alg": "the ID token is not signed with RS256 or ES256",
  "unknown-key": "the ID token is signed with a key the provider does not publish",
  "bad-signature": "the ID token's signature does not verify",
  "wrong-issuer": "the ID token was issued by another issuer",
  "wrong-audience": "the ID token is meant for another client",
  expired: "the ID token has expired",
  "issued-in-future": "the ID token is dated in the future",
  "too-old": "the ID token is too old",
  "wrong-nonce": "the ID token belongs to another sign-in (nonce)",
  "no-subject": "the ID token names no subject",
};

export async function handleSsoCallback(request: Request, env: Env): Promise<Response> {
  const origin = issuerOf(request);
  const params = new URL(request.url).searchParams;
  try {
    await admitOAuth(env, request, "authorize", null);
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(err.message, err.status, err.headers);
    throw err;
  }
  const keyring = await secretsKeyring(env);
  if (!keyring.ok) return errorPage(`Single sign-on is unavailable on this platform: ${keyring.detail}.`, 503);
  const opened = await openSignIn(keyring.keyring, params.get("state"));
  if (!opened.ok) {
    return opened.reason === "expired"
      ? signInRefusedPage(`This sign-in took longer than ${SIGN_IN_TTL_MS / 60_000} minutes. Start again from your MCP client.`, 400)
      : signInRefusedPage("This sign-in was not started here, or its link was altered. Start again from your MCP client.", 400);
  }
  const pending = opened.value;
  const tenant = tenantStub(env, pending.tenant);
  const failed = (reason: AuthFailureReason) => tenant.recordAuthFailures(reason, 1);

  const providerError = params.get("error");
  if (providerError !== null) {
    const description = params.get("error_description");
    return signInRefusedPage(`The identity provider did not sign you in (${providerError.slice(0, 64)}${description ? `: ${description.slice(0, 200)}` : ""}).`, 403);
  }
  const code = params.get("code");
  if (!code || code.length > 4096) return signInRefusedPage("The identity provider sent no authorization code back.", 400);

  const found = await tenant.identityGet();
  const identity = found.ok ? found.value : null;
  if (!identity || identity.updatedAt !== pending.identityUpdatedAt || identity.issuer !== pending.issuer || identity.clientId !== pending.providerClientId) {
    return signInRefusedPage("The tenant's identity provider was changed while you were signing in. Start again from your MCP client.", 409);
  }
  const secret = await openSecret(keyring.keyring, identitySecretBinding(pending.tenant), identity.clientSecret);
  if (!secret.ok) return errorPage("The tenant's identity provider secret cannot be opened with the platform's key. Tell the tenant's administrator to set the identity again.", 503);

  const policy = { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS };
  const admit = (host: string) => admitMetadataFetch(env, request, host);
  let verified: Awaited<ReturnType<typeof verifyIdToken>>;
  try {
    const provider = await discoverProvider(identity.issuer, policy, admit);
    if (!provider.ok) return providerUnavailablePage(identity.issuer, provider.detail);
    const exchanged = await exchangeCode(
      provider.value,
      { code, redirectUri: ssoCallbackUrl(origin), verifier: pending.verifier, clientId: identity.clientId, clientSecret: secret.value },
      policy,
    );
    if (!exchanged.ok) {
      return exchanged.reason === "refused"
        ? signInRefusedPage(`The identity provider refused to complete the sign-in (${exchanged.detail}). Start again from your MCP client.`, 400)
        : providerUnavailablePage(identity.issuer, exchanged.detail);
    }
    const expectation = { issuer: identity.issuer, clientId: identity.clientId, nonce: pending.nonce, now: Math.floor(Date.now() / 1000), maxAgeSeconds: SIGN_IN_TTL_MS / 1000 };
    const keys = await providerKeys(provider.value, policy, admit);
    if (!keys.ok) return providerUnavailablePage(identity.issuer, keys.detail);
    verified = await verifyIdToken(exchanged.idToken, keys.value, expectation);
    if (!verified.ok && verified.reason === "unknown-key") {
      // The provider may have rotated its keys since the set was cached.
      const fresh = await providerKeys(provider.value, policy, admit, true);
      if (!fresh.ok) return providerUnavailablePage(identity.issuer, fresh.detail);
      verified = await verifyIdToken(exchanged.idToken, fresh.value, expectation);
    }
  } catch (err) {
    // Over the limits of provider fetches.
    if (err instanceof OAuthError) return errorPage(err.message, err.status, err.headers);
    throw err;
  }
  if (!verified.ok) {
    await failed("sso-id-token");
    return signInRefusedPage(`The identity provider's answer could not be verified: ${ID_TOKEN_REFUSALS[verified.reason]}.`, 403);
  }
  const claims = verified.claims;
  const verdict = applyAllowRule(identity.allow, claims);
  if (!verdict.ok) {
    await failed("sso-outsider");
    return signInRefusedPage(verdict.reason, 403);
  }

  const minted = await mintSecret("code", pending.tenant);
  const issued = await tenant.ssoIssueCode(
    {
      codeHash: minted.hash,
      clientId: pending.clientId,
      clientName: pending.clientName,
      server: pending.server,
      resource: pending.resource,
      keyId: null,
      person: { subject: claims.sub, email: verdict.email, maxExpiresAt: Date.now() + platformConfig(env).SMCP_SSO_GRANT_MAX_SECONDS * 1000 },
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      scope: MCP_SCOPE,
    },
    {
      nonceHash: await sha256Hex(`smcp-sso-nonce:${pending.nonce}`),
      nonceExpiresAt: pending.expiresAt,
      issuer: pending.issuer,
      providerClientId: pending.providerClientId,
      identityUpdatedAt: pending.identityUpdatedAt,
    },
  );
  if (!issued.ok) {
    switch (issued.reason) {
      case "nonce-replayed":
        return signInRefusedPage("This sign-in was already used (its nonce was seen before). Start again from your MCP client.", 403);
      case "identity-changed":
        return signInRefusedPage("The tenant's identity provider was changed while you were signing in. Start again from your MCP client.", 409);
      case "unknown-server":
        return signInRefusedPage(`Server ${pending.server} is not enabled for tenant ${pending.tenant}.`, 400);
      case "busy":
        return errorPage("Too many sign-ins of this tenant are in progress. Try again in a few minutes.", 503, { "Retry-After": "300" });
      case "unknown-tenant":
        return signInRefusedPage("This tenant no longer exists.", 400);
    }
  }
  return redirectTo(pending.redirectUri, { code: minted.value, state: pending.clientState, iss: origin });
}
