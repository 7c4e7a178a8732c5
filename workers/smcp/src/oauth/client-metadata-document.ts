/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP
 * 2025-11-25 authorization): the pure rules. What a URL `client_id` must look like,
 * what its document must say, and how long an answer may be cached. The fetch and the
 * cache are in client-metadata.ts.
 *
 * - The `client_id` is an https URL with a path other than `/`, no fragment, no user
 *   info, and in the canonical form URL parsing gives it (so no dot segments, no
 *   upper-case host, no default port): the document's own `client_id` is compared to
 *   it as a plain string, as the draft requires, and two spellings of one URL would
 *   otherwise be two clients.
 * - The document is client metadata (RFC 7591 §2) checked like a registration: the
 *   same redirect URI rule (`isAcceptableRedirectUri`), `authorization_code` (and
 *   optionally `refresh_token`) only, `code` only. A document is a public identity
 *   anyone can copy, so shared secrets are refused (the draft forbids them) and so is
 *   `private_key_jwt`, which SMCP does not verify yet: such a client is told to use
 *   `none`. An absent method means `none`.
 * - Caching follows the answer's Cache-Control: `no-store`, `no-cache`, `private`
 *   and `max-age=0` are not stored; `s-maxage` (the cache is shared by every user of
 *   the isolate) or else `max-age` is clamped to [`CACHE_FLOOR_MS`, `CACHE_CEILING_MS`];
 *   without either, `CACHE_DEFAULT_MS`.
 */
import { z } from "zod";
import { GRANT_TYPES, isAcceptableRedirectUri, type GrantType, type OAuthClient } from "./clients";

export const MAX_CLIENT_ID_URL_LENGTH = 1000;
/** The draft suggests 5 KB as the most a document needs. */
export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const CACHE_FLOOR_MS = 60_000;
export const CACHE_DEFAULT_MS = 5 * 60_000;
export const CACHE_CEILING_MS = 24 * 60 * 60_000;

/** Whether a `client_id` names a metadata document (as opposed to a registration's `mcpc_` id). */
export const isMetadataClientId = (clientId: string | null): clientId is string => clientId !== null && /^https?:\/\//i.test(clientId);

export type ClientIdUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The draft's §3 rules for a URL `client_id`. Host rules are the guarded fetch's (outboundTarget). */
export function checkClientIdUrl(raw: string): ClientIdUrlCheck {
  if (raw.length > MAX_CLIENT_ID_URL_LENGTH) return { ok: false, reason: `client_id is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "client_id is not a valid URL" };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "a URL client_id must be an https URL" };
  if (url.username || url.password) return { ok: false, reason: "a URL client_id must not carry a user name or password" };
  if (raw.includes("#")) return { ok: false, reason: "a URL client_id must not have a fragment" };
  if (url.pathname === "/") return { ok: false, reason: "a URL client_id must have a path (the document's own URL, not the site's root)" };
  if (url.href !== raw) return { ok: false, reason: `a URL client_id must be written in its canonical form (${url.href})` };
  return { ok: true, url };
}

const DocumentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().max(2000).optional(),
  redirect_uris: z.array(z.string()).min(1).max(10),
  grant_types: z.array(z.string()).max(5).optional(),
  response_types: z.array(z.string()).max(5).optional(),
  token_endpoint_auth_method: z.string().max(100).optional(),
  client_secret: z.unknown().optional(),
  client_secret_expires_at: z.unknown().optional(),
});

export type DocumentCheck = { ok: true; client: OAuthClient } | { ok: false; reason: string };

/** The client a document describes, when the document is acceptable for `clientId`. */
export function clientFromDocument(clientId: string, bytes: Uint8Array): DocumentCheck {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return { ok: false, reason: "the document is not JSON" };
  }
  const parsed = DocumentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `the document's ${issue?.path.join(".") || "body"} is invalid: ${issue?.message ?? "invalid client metadata"}` };
  }
  const doc = parsed.data;
  if (doc.client_id !== clientId) return { ok: false, reason: `the document's client_id (${doc.client_id.slice(0, 200)}) is not its own URL` };
  if (doc.client_secret !== undefined || doc.client_secret_expires_at !== undefined) {
    return { ok: false, reason: "the document contains a client secret; a metadata document is public and must not" };
  }
  const method = doc.token_endpoint_auth_method ?? "none";
  if (method === "private_key_jwt") {
    return { ok: false, reason: "token_endpoint_auth_method private_key_jwt is not supported here yet; publish the document with none (a public client with PKCE)" };
  }
  if (method !== "none") return { ok: false, reason: `token_endpoint_auth_method ${method.slice(0, 100)} is not allowed for a metadata document; use none` };
  if (doc.redirect_uris.some((uri) => !isAcceptableRedirectUri(uri))) {
    return { ok: false, reason: "the document's redirect_uris must be https, http on a loopback host, or an app's own scheme, without a fragment" };
  }
  const grantTypes = doc.grant_types ?? ["authorization_code"];
  if (!grantTypes.includes("authorization_code") || grantTypes.some((g) => !(GRANT_TYPES as readonly string[]).includes(g))) {
    return { ok: false, reason: "the document's grant_types must include authorization_code and may add refresh_token" };
  }
  if (doc.response_types && (doc.response_types.length !== 1 || doc.response_types[0] !== "code")) {
    return { ok: false, reason: 'the document\'s response_types must be ["code"]' };
  }
  return {
    ok: true,
    client: {
      client_id: clientId,
      client_id_issued_at: 0,
      ...(doc.client_name !== undefined ? { client_name: doc.client_name } : {}),
      ...(doc.client_uri !== undefined && /^https:\/\//.test(doc.client_uri) ? { client_uri: doc.client_uri } : {}),
      redirect_uris: [...new Set(doc.redirect_uris)],
      grant_types: [...new Set(grantTypes)] as GrantType[],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      renewed_at: 0,
    },
  };
}

/** How long an answer with this Cache-Control may be reused (ms); 0: not stored. */
export function cacheLifetimeMs(cacheControl: string | null): number {
  if (cacheControl === null) return CACHE_DEFAULT_MS;
  const directives = new Map<string, string | null>();
  for (const part of cacheControl.split(",")) {
    const [name, ...rest] = part.trim().split("=");
    if (!name) continue;
    const value = rest.length ? rest.join("=").trim().replace(/^"(.*)"$/, "$1") : null;
    const key = name.trim().toLowerCase();
    if (!directives.has(key)) directives.set(key, value);
  }
  if (directives.has("no-store") || directives.has("no-cache") || directives.has("private")) return 0;
  const raw = directives.get("s-maxage") ?? directives.get("max-age");
  if (raw === undefined || raw === null) return CACHE_DEFAULT_MS;
  if (!/^\d+$/.test(raw)) return 0;
  const seconds = Number(raw);
  if (seconds === 0) return 0;
  return Math.min(CACHE_CEILING_MS, Math.max(CACHE_FLOOR_MS, seconds * 1000));
}
