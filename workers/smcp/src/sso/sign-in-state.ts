/**
 * The pending sign-in, carried in the OpenID Connect `state` parameter instead of being
 * stored: anyone can start a sign-in without a credential, so nothing is written before
 * the person has signed in. The state holds the MCP client's authorization request
 * (client, redirect URI, PKCE challenge, resource, its own `state`) and our side of the
 * sign-in (PKCE verifier and nonce), sealed with the platform key `SMCP_SECRETS_KEY`
 * (AES-256-GCM, runtime/secret-box.ts, bound to `smcp-sso-state:v1`, so a sealed server
 * secret or identity secret cannot pass for a state and the reverse), with an expiry
 * inside. Encryption keeps the verifier and nonce from the provider and the browser's
 * history; the tag keeps anyone from writing a request of their own.
 *
 * The state is not single-use by itself: the nonce inside is, once a valid ID token
 * carried it (TenantDO.ssoIssueCode records it until the state would have expired).
 */
import { decodeBase64, openSecret, sealSecret, type SecretKeyring } from "@smcp/runtime";

/** How long a person has between starting a sign-in and coming back from the provider. */
export const SIGN_IN_TTL_MS = 10 * 60_000;
/** A sealed state longer than this is not opened (the client's own state is at most 2,048 characters). */
export const MAX_SEALED_STATE_LENGTH = 12 * 1024;

const BINDING = "smcp-sso-state:v1";

export interface PendingSignIn {
  tenant: string;
  server: string;
  resource: string;
  clientId: string;
  clientName: string | null;
  redirectUri: string;
  codeChallenge: string;
  /** The MCP client's own `state`, returned to it unchanged. */
  clientState: string | null;
  /** The provider as configured when the sign-in started: a change of provider meanwhile refuses the callback. */
  issuer: string;
  providerClientId: string;
  identityUpdatedAt: number;
  /** Our PKCE verifier at the provider and the nonce its ID token must carry. */
  verifier: string;
  nonce: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type OpenedSignIn = { ok: true; value: PendingSignIn } | { ok: false; reason: "malformed" | "expired" };

export async function sealSignIn(keyring: SecretKeyring, pending: PendingSignIn): Promise<string> {
  const sealed = await sealSecret(keyring, BINDING, JSON.stringify(pending));
  return ["s1", sealed.keyId, toUrl(sealed.iv), toUrl(sealed.ciphertext)].join(".");
}

export async function openSignIn(keyring: SecretKeyring, text: string | null, now = Date.now()): Promise<OpenedSignIn> {
  if (!text || text.length > MAX_SEALED_STATE_LENGTH) return { ok: false, reason: "malformed" };
  const [version, keyId, iv, ciphertext, ...rest] = text.split(".");
  if (version !== "s1" || !keyId || !iv || !ciphertext || rest.length > 0 || !decodeBase64(iv) || !decodeBase64(ciphertext)) {
    return { ok: false, reason: "malformed" };
  }
  const opened = await openSecret(keyring, BINDING, { keyId, iv, ciphertext });
  if (!opened.ok) return { ok: false, reason: "malformed" };
  let value: PendingSignIn;
  try {
    value = JSON.parse(opened.value) as PendingSignIn;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof value?.expiresAt !== "number") return { ok: false, reason: "malformed" };
  if (value.expiresAt <= now) return { ok: false, reason: "expired" };
  return { ok: true, value };
}

const toUrl = (base64: string) => base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
