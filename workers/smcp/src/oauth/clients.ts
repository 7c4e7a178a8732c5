/**
 * OAuth clients: dynamic registration (RFC 7591), lookup, and client authentication
 * at the token and revocation endpoints. Clients whose id is the URL of a Client ID
 * Metadata Document are found by client-metadata.ts and are never stored here;
 * registration is the fallback for clients that do not have one.
 *
 * A client belongs to no tenant (it registers before anyone has said which tenant it
 * will be used with), so registrations live in the `OAUTH_KV` namespace, not in a
 * tenant's Durable Object. A registration is written once and read many times, which
 * is what KV is for. Client secrets are stored as SHA-256 digests only. Registrations
 * expire after `CLIENT_TTL_SECONDS` without use; a client that finds its id gone gets
 * `invalid_client` and registers again, as MCP clients do.
 *
 * Registration is open, so each client address (its digest) may hold at most
 * `SMCP_OAUTH_CLIENTS_PER_ADDRESS` live registrations, counted in that address's
 * OAuthLimiterDO; the next one evicts a registration that never got a token first.
 * A record keeps the digest of the address it came from, so its first token can
 * tell that object it is in use.
 */
import { isLoopbackHost, platformConfig, randomToken, secretsEqual, sha256Hex } from "@smcp/runtime";
import { z } from "zod";
import type { Env } from "../env";
import { addressObjectName, limiterStub } from "./abuse-limits";
import { OAuthError } from "./errors";

const CLIENT_TTL_SECONDS = 90 * 24 * 60 * 60;
/** A used registration has its lifetime renewed at most this often (one KV write). */
const CLIENT_RENEW_MS = 7 * 24 * 60 * 60_000;

export type TokenEndpointAuthMethod = "none" | "client_secret_basic" | "client_secret_post";
export const TOKEN_ENDPOINT_AUTH_METHODS: TokenEndpointAuthMethod[] = ["none", "client_secret_basic", "client_secret_post"];
export const GRANT_TYPES = ["authorization_code", "refresh_token"] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface OAuthClient {
  client_id: string;
  client_id_issued_at: number;
  client_name?: string;
  client_uri?: string;
  redirect_uris: string[];
  grant_types: GrantType[];
  response_types: ["code"];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** SHA-256 hex of the client secret, for confidential clients. */
  secret_hash?: string;
  /** When the KV lifetime was last renewed (ms). */
  renewed_at: number;
  /** SHA-256 of the client address that registered it (abuse-limits.ts); absent on older records. */
  registered_from?: string;
  /** When it last got tokens (ms): absent while it has never been used. */
  used_at?: number;
}

const CLIENT_ID = /^mcpc_[A-Za-z0-9_-]{24}$/;
const DANGEROUS_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "file:", "blob:", "about:", "filesystem:"]);

/**
 * Whether a redirect URI may be registered: absolute, no fragment or user info, and
 * `https`, `http` on a loopback host (RFC 8252 §7.3), or a native app's private-use
 * scheme (RFC 8252 §7.1). Remote `http` and script-capable schemes are refused.
 */
export function isAcceptableRedirectUri(value: string): boolean {
  if (value.length > 2000 || value.includes("#")) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || DANGEROUS_SCHEMES.has(url.protocol)) return false;
  if (url.protocol === "https:") return true;
  if (url.protocol === "http:") return isLoopbackHost(url.hostname);
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) && url.protocol !== "ws:" && url.protocol !== "wss:" && url.protocol !== "ftp:";
}

const RegistrationSchema = z.object({
  redirect_uris: z.array(z.string()).min(1).max(10),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().max(2000).optional(),
  grant_types: z.array(z.string()).max(5).optional(),
  response_types: z.array(z.string()).max(5).optional(),
  token_endpoint_auth_method: z.string().optional(),
  scope: z.string().max(1000).optional(),
});

/** Registers a client (RFC 7591 §3.1). Returns the stored record and, for confidential clients, the secret. */
export async function registerClient(env: Env, metadata: unknown, addressDigest: string): Promise<{ client: OAuthClient; secret: string | null }> {
  const parsed = RegistrationSchema.safeParse(metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    throw new OAuthError(
      field === "redirect_uris" ? "invalid_redirect_uri" : "invalid_client_metadata",
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid client metadata"}`,
    );
  }
  const m = parsed.data;
  const bad = m.redirect_uris.find((uri) => !isAcceptableRedirectUri(uri));
  if (bad !== undefined) {
    throw new OAuthError("invalid_redirect_uri", "Redirect URIs must be https, http on a loopback host, or an app's own scheme, without a fragment");
  }
  const method = (m.token_endpoint_auth_method ?? "client_secret_basic") as TokenEndpointAuthMethod;
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method)) {
    throw new OAuthError("invalid_client_metadata", `token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")}`);
  }
  const grantTypes = m.grant_types ?? [...GRANT_TYPES];
  if (!grantTypes.includes("authorization_code") || grantTypes.some((g) => !(GRANT_TYPES as readonly string[]).includes(g))) {
    throw new OAuthError("invalid_client_metadata", "grant_types must include authorization_code and may add refresh_token");
  }
  if (m.response_types && (m.response_types.length !== 1 || m.response_types[0] !== "code")) {
    throw new OAuthError("invalid_client_metadata", 'response_types must be ["code"]');
  }
  if (m.client_uri !== undefined && !/^https:\/\//.test(m.client_uri)) {
    throw new OAuthError("invalid_client_metadata", "client_uri must be an https URL");
  }
  const secret = method === "none" ? null : `smcp_cs_${randomToken(32)}`;
  const now = Date.now();
  const client: OAuthClient = {
    client_id: `mcpc_${randomToken(18)}`,
    client_id_issued_at: Math.floor(now / 1000),
    ...(m.client_name !== undefined ? { client_name: m.client_name } : {}),
    ...(m.client_uri !== undefined ? { client_uri: m.client_uri } : {}),
    redirect_uris: [...new Set(m.redirect_uris)],
    grant_types: [...new Set(grantTypes)] as GrantType[],
    response_types: ["code"],
    token_endpoint_auth_method: method,
    ...(secret ? { secret_hash: await sha256Hex(secret) } : {}),
    renewed_at: now,
    registered_from: addressDigest,
  };
  // Counted before it is stored: a record that fails to be written is a never-used
  // entry, the first to be evicted, and an evicted record whose delete fails still
  // ends with its KV expiry.
  const { evicted } = await limiterStub(env, addressObjectName(addressDigest)).registrationAdded(
    client.client_id,
    platformConfig(env).SMCP_OAUTH_CLIENTS_PER_ADDRESS,
    CLIENT_TTL_SECONDS * 1000,
  );
  await Promise.all(evicted.map((id) => env.OAUTH_KV.delete(clientKey(id))));
  await env.OAUTH_KV.put(clientKey(client.client_id), JSON.stringify(client), { expirationTtl: CLIENT_TTL_SECONDS });
  return { client, secret };
}

/** The RFC 7591 §3.2.1 registration response: the metadata as registered, and the secret once. */
export function registrationResponse(client: OAuthClient, secret: string | null): Record<string, unknown> {
  const { secret_hash: _hash, renewed_at: _renewed, registered_from: _from, used_at: _used, ...metadata } = client;
  return secret ? { ...metadata, client_secret: secret, client_secret_expires_at: 0 } : metadata;
}

export async function getClient(env: Env, clientId: string | null): Promise<OAuthClient | null> {
  if (!clientId || !CLIENT_ID.test(clientId)) return null;
  return env.OAUTH_KV.get<OAuthClient>(clientKey(clientId), "json");
}

/**
 * After a successful token request: marks a registration used (its first tokens) and
 * renews its KV lifetime, at most weekly. Its address's count learns it too, so a used
 * registration is evicted only after every never-used one.
 */
export async function renewClient(env: Env, client: OAuthClient): Promise<void> {
  // A metadata document's client has no registration to renew: nothing of it is stored.
  if (!CLIENT_ID.test(client.client_id)) return;
  const now = Date.now();
  if (client.used_at !== undefined && now - client.renewed_at < CLIENT_RENEW_MS) return;
  await env.OAUTH_KV.put(clientKey(client.client_id), JSON.stringify({ ...client, renewed_at: now, used_at: now }), {
    expirationTtl: CLIENT_TTL_SECONDS,
  });
  if (client.registered_from) {
    await limiterStub(env, addressObjectName(client.registered_from)).registrationUsed(client.client_id, CLIENT_TTL_SECONDS * 1000);
  }
}

/**
 * Authenticates the client of a token or revocation request (RFC 6749 §2.3): HTTP
 * Basic or `client_secret` in the body for confidential clients, `client_id` alone
 * for public ones (a metadata document's client is always public). Any mismatch is
 * `invalid_client` (401).
 */
export async function authenticateClient(
  request: Request,
  form: URLSearchParams,
  /** Finds the client an id names: a registration, or a metadata document (client-metadata.ts). */
  find: (clientId: string | null) => Promise<OAuthClient | null>,
): Promise<OAuthClient> {
  const basic = parseBasic(request.headers.get("authorization"));
  if (basic === "malformed") throw invalidClient(true);
  const bodyId = form.get("client_id");
  const bodySecret = form.get("client_secret");
  if (basic && (bodySecret !== null || (bodyId !== null && bodyId !== basic.id))) {
    throw new OAuthError("invalid_request", "Use one client authentication method per request");
  }
  const client = await find(basic?.id ?? bodyId);
  if (!client) throw invalidClient(basic !== null);
  const secret = basic?.secret ?? bodySecret;
  if (client.secret_hash === undefined) {
    if (secret !== null && secret !== "") throw invalidClient(basic !== null);
    return client;
  }
  if (secret === null || !(await secretsEqual(await sha256Hex(secret), client.secret_hash))) throw invalidClient(basic !== null);
  return client;
}

/**
 * The registered redirect URI a request names, compared exactly, except that the
 * port of a loopback `http` URI may differ (RFC 8252 §7.3). The request must name
 * one, even when only one is registered: the token request then repeats it.
 */
export function matchRedirectUri(client: OAuthClient, requested: string | null): string | null {
  if (requested === null) return null;
  if (client.redirect_uris.includes(requested)) return requested;
  const loose = withoutLoopbackPort(requested);
  if (loose === null) return null;
  return client.redirect_uris.some((uri) => withoutLoopbackPort(uri) === loose) ? requested : null;
}

function withoutLoopbackPort(uri: string): string | null {
  try {
    const url = new URL(uri);
    if (url.protocol !== "http:" || !isLoopbackHost(url.hostname) || uri.includes("#")) return null;
    url.port = "";
    return url.href;
  } catch {
    return null;
  }
}

function invalidClient(usedBasic: boolean): OAuthError {
  return new OAuthError("invalid_client", "Client authentication failed", 401, usedBasic ? { "WWW-Authenticate": 'Basic realm="smcp"' } : {});
}

function parseBasic(header: string | null): { id: string; secret: string } | null | "malformed" {
  if (!header || !/^basic /i.test(header)) return null;
  try {
    const decoded = atob(header.slice(6).trim());
    const colon = decoded.indexOf(":");
    if (colon < 0) return "malformed";
    const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return "malformed";
  }
}

const clientKey = (clientId: string) => `client:${clientId}`;
