/**
 * Redeems the provider's authorization code at its token endpoint (RFC 6749 §4.1.3 with
 * the PKCE verifier, RFC 7636 §4.5) through the guarded outbound: one POST, no redirect
 * followed (our client secret goes to the token endpoint only), a bounded answer. The
 * client authenticates as the discovery document allows (sso/provider.ts):
 * `client_secret_basic` (RFC 6749 §2.3.1: both parts form-encoded) or
 * `client_secret_post`. Only the `id_token` of the answer is used; the provider's access
 * and refresh tokens are dropped unread.
 */
import type { EgressPolicy } from "../sandbox/egress";
import { guardedFetch } from "../oauth/guarded-fetch";
import { MAX_ID_TOKEN_LENGTH } from "./id-token";
import { MAX_PROVIDER_DOCUMENT_BYTES, PROVIDER_FETCH_TIMEOUT_MS, parseJson, type ProviderMetadata } from "./provider";

export interface CodeExchange {
  code: string;
  redirectUri: string;
  verifier: string;
  clientId: string;
  clientSecret: string;
}

export type ExchangeResult =
  | { ok: true; idToken: string }
  /** The provider answered and refused the code (an OAuth error): the sign-in failed, the provider works. */
  | { ok: false; reason: "refused"; detail: string }
  /** The provider could not be reached or answered something unusable. */
  | { ok: false; reason: "unusable"; detail: string };

export async function exchangeCode(provider: ProviderMetadata, exchange: CodeExchange, policy: EgressPolicy): Promise<ExchangeResult> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: exchange.code,
    redirect_uri: exchange.redirectUri,
    code_verifier: exchange.verifier,
  });
  const headers: Record<string, string> = {};
  if (provider.clientAuth === "client_secret_basic") {
    const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
    headers.Authorization = `Basic ${btoa(`${encode(exchange.clientId)}:${encode(exchange.clientSecret)}`)}`;
  } else {
    form.set("client_id", exchange.clientId);
    form.set("client_secret", exchange.clientSecret);
  }
  const res = await guardedFetch(new URL(provider.tokenEndpoint), {
    ...policy,
    maxBytes: MAX_PROVIDER_DOCUMENT_BYTES,
    timeoutMs: PROVIDER_FETCH_TIMEOUT_MS,
    post: { form, headers },
  });
  if (!res.ok) return { ok: false, reason: "unusable", detail: `its token endpoint could not be reached: ${res.detail}` };
  const json = parseJson(res.body) as { error?: unknown; error_description?: unknown; id_token?: unknown } | undefined;
  if (typeof json !== "object" || json === null) return { ok: false, reason: "unusable", detail: `its token endpoint answered ${res.status} without JSON` };
  if (res.status !== 200) {
    if (typeof json.error !== "string") return { ok: false, reason: "unusable", detail: `its token endpoint answered ${res.status}` };
    const description = typeof json.error_description === "string" ? `: ${json.error_description.slice(0, 200)}` : "";
    return { ok: false, reason: "refused", detail: `${json.error.slice(0, 64)}${description}` };
  }
  if (typeof json.id_token !== "string" || json.id_token.length > MAX_ID_TOKEN_LENGTH) {
    return { ok: false, reason: "unusable", detail: "its token endpoint answered without an ID token (is scope openid allowed for this client?)" };
  }
  return { ok: true, idToken: json.id_token };
}
