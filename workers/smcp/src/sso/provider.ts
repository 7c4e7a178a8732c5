/**
 * A tenant's OpenID Connect provider as the sign-in needs it: its discovery document
 * (`{issuer}/.well-known/openid-configuration`, OpenID Connect Discovery 1.0 §4) and its
 * keys (`jwks_uri`), both fetched through the platform's guarded outbound
 * (oauth/guarded-fetch.ts: https, public hosts only unless SMCP_ALLOW_LOOPBACK_EGRESS,
 * size and time bounds, redirects checked) and kept in this isolate's bounded memory for
 * as long as their `Cache-Control` allows (the metadata documents' rule: 60 s to 24 h,
 * 5 minutes by default). Nothing is stored lastingly.
 *
 * A stranger triggers these fetches (a sign-in can be started without a credential), so
 * a cache miss takes one from the address's and the target host's metadata buckets
 * (oauth/abuse-limits.ts), like a client metadata document. Failures come back as a
 * sentence naming what the provider did wrong; the caller shows the page that says the
 * provider could not be used, with its issuer.
 */
import { BoundedCache, stringBytes } from "@smcp/runtime";
import { z } from "zod";
import type { EgressPolicy } from "../sandbox/egress";
import { CACHE_CEILING_MS, cacheLifetimeMs } from "../oauth/client-metadata-document";
import { guardedFetch, outboundTarget } from "../oauth/guarded-fetch";

/** Bounds of what a provider may send: real discovery documents and key sets are a few KB. */
export const MAX_PROVIDER_DOCUMENT_BYTES = 64 * 1024;
export const PROVIDER_FETCH_TIMEOUT_MS = 5_000;
const PROVIDER_CACHE_BYTES = 256 * 1024;
/** A key set is fetched again for an unknown `kid` (the provider rotated keys) at most this often. */
const JWKS_REFETCH_AFTER_MS = 60_000;

const httpsUrl = z.string().max(2048).refine((u) => URL.canParse(u) && new URL(u).protocol === "https:", "must be an https URL");

const Discovery = z.object({
  issuer: z.string(),
  authorization_endpoint: httpsUrl,
  token_endpoint: httpsUrl,
  jwks_uri: httpsUrl,
  token_endpoint_auth_methods_supported: z.array(z.string()).max(50).optional(),
  code_challenge_methods_supported: z.array(z.string()).max(50).optional(),
  scopes_supported: z.array(z.string()).max(500).optional(),
});

export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** How we authenticate at the token endpoint, from what the provider supports (basic preferred). */
  clientAuth: "client_secret_basic" | "client_secret_post";
}

export type ProviderResult<T> = { ok: true; value: T } | { ok: false; detail: string };

/** Admits a fetch a stranger caused (the metadata buckets); throws the 429 when over. */
export type AdmitFetch = (host: string) => Promise<void>;

type Cached = { kind: "discovery"; value: ProviderMetadata } | { kind: "jwks"; value: unknown; at: number };

const cache = new BoundedCache<Cached>({
  maxBytes: PROVIDER_CACHE_BYTES,
  ttlMs: CACHE_CEILING_MS,
  sizeOf: (entry) => stringBytes(JSON.stringify(entry)),
});

/** The discovery document's URL: the issuer with `/.well-known/openid-configuration` appended (§4). */
export const discoveryUrl = (issuer: string) => `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;

/** The provider's metadata, from the cache or a fetch. */
export async function discoverProvider(issuer: string, policy: EgressPolicy, admit: AdmitFetch): Promise<ProviderResult<ProviderMetadata>> {
  const key = `discovery:${issuer}`;
  const cached = cache.get(key);
  if (cached?.kind === "discovery") return { ok: true, value: cached.value };
  const fetched = await fetchJson(new URL(discoveryUrl(issuer)), policy, admit, "its discovery document");
  if (!fetched.ok) return fetched;
  const parsed = Discovery.safeParse(fetched.value.json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, detail: `its discovery document is not usable: ${issue ? `${issue.path.join(".") || "the document"} ${issue.message}` : "not an object"}` };
  }
  const doc = parsed.data;
  // §4.3: the document's issuer must be the one it was fetched for, exactly.
  if (doc.issuer !== issuer) return { ok: false, detail: `its discovery document names another issuer (${doc.issuer.slice(0, 200)})` };
  if (doc.code_challenge_methods_supported && !doc.code_challenge_methods_supported.includes("S256")) {
    return { ok: false, detail: "it does not support PKCE with S256, which the sign-in requires" };
  }
  const methods = doc.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  const clientAuth = methods.includes("client_secret_basic") ? "client_secret_basic" : methods.includes("client_secret_post") ? "client_secret_post" : null;
  if (!clientAuth) return { ok: false, detail: "its token endpoint accepts neither client_secret_basic nor client_secret_post" };
  for (const [name, url] of [["token_endpoint", doc.token_endpoint], ["jwks_uri", doc.jwks_uri]] as const) {
    const verdict = outboundTarget(new URL(url), policy);
    if (!verdict.ok) return { ok: false, detail: `its ${name} cannot be used: ${verdict.reason}` };
  }
  const value: ProviderMetadata = {
    issuer,
    authorizationEndpoint: doc.authorization_endpoint,
    tokenEndpoint: doc.token_endpoint,
    jwksUri: doc.jwks_uri,
    clientAuth,
  };
  const lifetime = cacheLifetimeMs(fetched.value.cacheControl);
  if (lifetime > 0) cache.set(key, { kind: "discovery", value }, Date.now(), lifetime);
  return { ok: true, value };
}

/**
 * The provider's key set. `fresh` asks for a new fetch (a token named a key the cached
 * set lacks), honoured when the cached set is older than a minute.
 */
export async function providerKeys(provider: ProviderMetadata, policy: EgressPolicy, admit: AdmitFetch, fresh = false): Promise<ProviderResult<unknown>> {
  const key = `jwks:${provider.jwksUri}`;
  const cached = cache.get(key);
  const now = Date.now();
  if (cached?.kind === "jwks" && !(fresh && now - cached.at > JWKS_REFETCH_AFTER_MS)) return { ok: true, value: cached.value };
  const fetched = await fetchJson(new URL(provider.jwksUri), policy, admit, "its keys (jwks_uri)");
  if (!fetched.ok) return fetched;
  const jwks = fetched.value.json;
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    return { ok: false, detail: "its jwks_uri did not answer a key set ({ keys: [...] })" };
  }
  const lifetime = cacheLifetimeMs(fetched.value.cacheControl);
  if (lifetime > 0) cache.set(key, { kind: "jwks", value: jwks, at: now }, now, lifetime);
  return { ok: true, value: jwks };
}

async function fetchJson(
  url: URL,
  policy: EgressPolicy,
  admit: AdmitFetch,
  what: string,
): Promise<ProviderResult<{ json: unknown; cacheControl: string | null }>> {
  await admit(url.hostname);
  const res = await guardedFetch(url, { ...policy, maxBytes: MAX_PROVIDER_DOCUMENT_BYTES, timeoutMs: PROVIDER_FETCH_TIMEOUT_MS });
  if (!res.ok) return { ok: false, detail: `${what} could not be fetched: ${res.detail}` };
  if (res.status !== 200) return { ok: false, detail: `${what} could not be fetched: ${url.host} answered ${res.status}` };
  const json = parseJson(res.body);
  if (json === undefined) return { ok: false, detail: `${what} is not JSON` };
  return { ok: true, value: { json, cacheControl: res.headers.get("cache-control") } };
}

/** JSON of a bounded body, or undefined when it is not JSON text. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    return undefined;
  }
}
