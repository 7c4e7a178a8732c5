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

/**
 * The UTF-8 length of `s` without encoding it (quotas and bounds count bytes on every
 * write). A lone surrogate counts 3 bytes, as TextEncoder writes it (U+FFFD).
 */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: two code units, four bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** `bytes` as lowercase hex, two digits a byte (a table: every authenticated request hashes its key). */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!];
  return out;
}
