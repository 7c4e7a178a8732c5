/**
 * Bytes as text: lowercase hex for digests and trace ids, base64 (RFC 4648 §4) for CSP hash sources, unpadded base64url
 * (§5) for everything that travels in URLs and headers (session ids, tokens, PKCE
 * challenges). One implementation, so every id and digest the platform prints is
 * spelled the same way.
 */

/** `bytes` as padded base64. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** `bytes` as unpadded base64url: `-` and `_` for `+` and `/`, no `=`. */
export function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** `bytes` as lowercase hex, two digits a byte (a table: every authenticated request hashes its key). */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!];
  return out;
}
