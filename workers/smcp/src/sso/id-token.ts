/**
 * Verifies an OpenID Connect ID token (OpenID Connect Core 1.0 §3.1.3.7) with Web Crypto
 * against the provider's JWKS: the signature (RS256 or ES256 only; `none`, HMAC and
 * everything else are refused, so a key's public half can never be used as an HMAC
 * secret), then `iss` exactly equal to the configured issuer, `aud` containing our
 * client id (and `azp` equal to it when there are several audiences), `exp` in the
 * future, `iat` not in the future nor older than `maxAgeSeconds`, and `nonce` equal to
 * the one this sign-in sent. Each failure has its own reason, for the page and the audit.
 *
 * The token is hostile until verified: its size, its parts and the JWKS are bounded
 * before anything is decoded or imported.
 */
import { decodeBase64 } from "@smcp/runtime";

export const MAX_ID_TOKEN_LENGTH = 16 * 1024;
export const MAX_JWKS_KEYS = 32;
/** Clock skew allowed on `exp` and `iat`, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;

export interface Jwk {
  kty?: unknown;
  kid?: unknown;
  alg?: unknown;
  use?: unknown;
  crv?: unknown;
  n?: unknown;
  e?: unknown;
  x?: unknown;
  y?: unknown;
}

export interface IdTokenExpectation {
  issuer: string;
  clientId: string;
  nonce: string;
  /** Seconds since the epoch. */
  now: number;
  /** The oldest `iat` accepted, as an age in seconds. */
  maxAgeSeconds: number;
}

export interface IdTokenClaims extends Record<string, unknown> {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce: string;
  email?: unknown;
  email_verified?: unknown;
}

export type IdTokenFailure =
  | "malformed"
  | "unsupported-alg"
  | "unknown-key"
  | "bad-signature"
  | "wrong-issuer"
  | "wrong-audience"
  | "expired"
  | "issued-in-future"
  | "too-old"
  | "wrong-nonce"
  | "no-subject";

export type IdTokenResult = { ok: true; claims: IdTokenClaims } | { ok: false; reason: IdTokenFailure };

const ALGORITHMS = {
  RS256: { kty: "RSA", importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verifyParams: { name: "RSASSA-PKCS1-v1_5" } },
  ES256: { kty: "EC", importParams: { name: "ECDSA", namedCurve: "P-256" }, verifyParams: { name: "ECDSA", hash: "SHA-256" } },
} as const;
type Alg = keyof typeof ALGORITHMS;

export async function verifyIdToken(token: string, jwks: unknown, expect: IdTokenExpectation): Promise<IdTokenResult> {
  if (typeof token !== "string" || token.length > MAX_ID_TOKEN_LENGTH) return fail("malformed");
  const parts = token.split(".");
  if (parts.length !== 3) return fail("malformed");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  const signature = decodeBase64Url(signaturePart);
  if (!header || !payload || !signature) return fail("malformed");
  const alg = header.alg;
  if (alg !== "RS256" && alg !== "ES256") return fail("unsupported-alg");
  if (header.crit !== undefined) return fail("unsupported-alg");

  const key = await importKey(jwks, alg, typeof header.kid === "string" ? header.kid : null);
  if (!key) return fail("unknown-key");
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  let valid = false;
  try {
    valid = await crypto.subtle.verify(ALGORITHMS[alg].verifyParams, key, signature, signed);
  } catch {
    valid = false;
  }
  if (!valid) return fail("bad-signature");

  if (payload.iss !== expect.issuer) return fail("wrong-issuer");
  const aud = payload.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === "string") ? (aud as string[]) : null;
  if (!audiences || !audiences.includes(expect.clientId)) return fail("wrong-audience");
  if (audiences.length > 1 && payload.azp !== expect.clientId) return fail("wrong-audience");
  if (typeof payload.exp !== "number" || typeof payload.iat !== "number") return fail("malformed");
  if (payload.exp + CLOCK_SKEW_SECONDS <= expect.now) return fail("expired");
  if (payload.iat - CLOCK_SKEW_SECONDS > expect.now) return fail("issued-in-future");
  if (expect.now - payload.iat > expect.maxAgeSeconds) return fail("too-old");
  if (typeof payload.nonce !== "string" || !timingSafeEqual(payload.nonce, expect.nonce)) return fail("wrong-nonce");
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) return fail("no-subject");
  return { ok: true, claims: payload as IdTokenClaims };
}

const fail = (reason: IdTokenFailure): IdTokenResult => ({ ok: false, reason });

/**
 * The JWKS key for this token: by `kid` when the token names one, else the only key of
 * the algorithm's type. A key that declares another `alg` or a `use` other than `sig`
 * is not used.
 */
async function importKey(jwks: unknown, alg: Alg, kid: string | null): Promise<CryptoKey | null> {
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return null;
  const keys = ((jwks as { keys: unknown[] }).keys.slice(0, MAX_JWKS_KEYS) as Jwk[]).filter(
    (k) =>
      typeof k === "object" &&
      k !== null &&
      k.kty === ALGORITHMS[alg].kty &&
      (k.alg === undefined || k.alg === alg) &&
      (k.use === undefined || k.use === "sig") &&
      (alg !== "ES256" || k.crv === "P-256"),
  );
  const candidates = kid === null ? (keys.length === 1 ? keys : []) : keys.filter((k) => k.kid === kid);
  const jwk = candidates[0];
  if (!jwk) return null;
  const material: JsonWebKey =
    alg === "RS256"
      ? { kty: "RSA", n: String(jwk.n), e: String(jwk.e), alg, ext: true }
      : { kty: "EC", crv: "P-256", x: String(jwk.x), y: String(jwk.y), ext: true };
  try {
    return await crypto.subtle.importKey("jwk", material, ALGORITHMS[alg].importParams, false, ["verify"]);
  } catch {
    return null;
  }
}

function decodeBase64Url(part: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return null;
  return decodeBase64(part);
}

function decodeJson(part: string): Record<string, unknown> | null {
  const bytes = decodeBase64Url(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.byteLength !== y.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
