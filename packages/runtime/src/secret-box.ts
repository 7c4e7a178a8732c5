/**
 * Sealing deployed servers' secrets with the platform key (SPEC section 9): AES-256-GCM
 * through Web Crypto, a fresh 96-bit IV per value, and additional data that binds a
 * sealed value to the tenant, server and name it was written for (a row copied to
 * another name or server does not open).
 *
 * The key is `SMCP_SECRETS_KEY`, 32 bytes in base64 or base64url; its id (the first 8
 * bytes of its SHA-256, hex) is stored with every value, so a value names the key that
 * opens it. `SMCP_SECRETS_KEY_PREVIOUS`, when set, is a second key that still opens
 * values (rotation); sealing always uses the current key. Pure (Web Crypto only), so
 * the unit tier runs it in Node.
 */

export interface SecretKey {
  id: string;
  key: CryptoKey;
}

/** The keys that open values: `current` seals, `previous` (if any) only opens. */
export interface SecretKeyring {
  current: SecretKey;
  previous: SecretKey | null;
}

/** A sealed value as stored: which key, the IV and the ciphertext with its tag, both base64. */
export interface SealedSecret {
  keyId: string;
  iv: string;
  ciphertext: string;
}

export type KeyringResult =
  | { ok: true; keyring: SecretKeyring }
  | { ok: false; reason: "missing" | "invalid"; variable: string; detail: string };

export type OpenResult = { ok: true; value: string; stale: boolean } | { ok: false; reason: "unknown-key" | "corrupt" };

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** Bytes of base64 or base64url text (padding optional), or null when it is neither. */
export function decodeBase64(text: string): Uint8Array | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(trimmed)) return null;
  const standard = trimmed.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard.length % 4 === 1) return null;
  try {
    const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The id stored with each value: the first 8 bytes of the key's SHA-256, in hex. */
export async function secretKeyId(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function importKey(variable: string, text: string): Promise<SecretKey | { error: string }> {
  const raw = decodeBase64(text);
  if (!raw || raw.byteLength !== KEY_BYTES) {
    return { error: `${variable} must be ${KEY_BYTES} random bytes in base64 (openssl rand -base64 32); it decodes to ${raw ? `${raw.byteLength} bytes` : "no base64"}` };
  }
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { id: await secretKeyId(raw), key };
}

/**
 * The keyring from the two variables. Unset or empty `current` is `missing`; a value
 * that is not 32 bytes of base64 is `invalid`, named, never echoed.
 */
export async function loadKeyring(current: string | undefined, previous: string | undefined): Promise<KeyringResult> {
  if (!current?.trim()) {
    return { ok: false, reason: "missing", variable: "SMCP_SECRETS_KEY", detail: "SMCP_SECRETS_KEY is not set" };
  }
  const now = await importKey("SMCP_SECRETS_KEY", current);
  if ("error" in now) return { ok: false, reason: "invalid", variable: "SMCP_SECRETS_KEY", detail: now.error };
  let before: SecretKey | null = null;
  if (previous?.trim()) {
    const imported = await importKey("SMCP_SECRETS_KEY_PREVIOUS", previous);
    if ("error" in imported) return { ok: false, reason: "invalid", variable: "SMCP_SECRETS_KEY_PREVIOUS", detail: imported.error };
    before = imported.id === now.id ? null : imported;
  }
  return { ok: true, keyring: { current: now, previous: before } };
}

/** What a sealed value is bound to: tenant, server and name. */
export const secretBinding = (tenant: string, server: string, name: string) => `smcp-secret:v1:${tenant}/${server}/${name}`;

const additionalData = (binding: string) => new TextEncoder().encode(binding);

export async function sealSecret(keyring: SecretKeyring, binding: string, value: string): Promise<SealedSecret> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(binding) },
    keyring.current.key,
    new TextEncoder().encode(value),
  );
  return { keyId: keyring.current.id, iv: encodeBase64(iv), ciphertext: encodeBase64(new Uint8Array(ciphertext)) };
}

/**
 * Opens a sealed value with whichever key of the ring its id names. `stale` says it
 * was sealed under the previous key (the caller may seal it again under the current
 * one). A value under neither key is `unknown-key`; one that fails authentication
 * (tampered, or bound to another name) is `corrupt`.
 */
export async function openSecret(keyring: SecretKeyring, binding: string, sealed: SealedSecret): Promise<OpenResult> {
  const key =
    sealed.keyId === keyring.current.id ? keyring.current : sealed.keyId === keyring.previous?.id ? keyring.previous : null;
  if (!key) return { ok: false, reason: "unknown-key" };
  const iv = decodeBase64(sealed.iv);
  const ciphertext = decodeBase64(sealed.ciphertext);
  if (!iv || iv.byteLength !== IV_BYTES || !ciphertext) return { ok: false, reason: "corrupt" };
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: additionalData(binding) }, key.key, ciphertext);
    return { ok: true, value: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plain), stale: key !== keyring.current };
  } catch {
    return { ok: false, reason: "corrupt" };
  }
}
