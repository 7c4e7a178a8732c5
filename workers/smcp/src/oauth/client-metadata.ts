/**
 * Finding the client a `client_id` names: a registration (clients.ts) or, for an https
 * URL, a Client ID Metadata Document fetched through the guarded outbound.
 *
 * Nothing about a document is stored lastingly: it lives in this isolate's bounded
 * in-memory cache for as long as its Cache-Control allows (client-metadata-document.ts
 * states the floor and ceiling), and the grant row a key holder's approval creates
 * records the URL as its client id, as it does a registration's id. A cache miss is a
 * fetch a stranger triggered, so it is admitted by the address's and the target
 * host's buckets first (abuse-limits.ts); concurrent misses of one URL share one fetch.
 */
import { BoundedCache, platformConfig, stringBytes } from "@smcp/runtime";
import type { Env } from "../env";
import { admitMetadataFetch } from "./abuse-limits";
import { getClient, type OAuthClient } from "./clients";
import {
  CACHE_CEILING_MS,
  MAX_DOCUMENT_BYTES,
  cacheLifetimeMs,
  checkClientIdUrl,
  clientFromDocument,
  isMetadataClientId,
} from "./client-metadata-document";
import { guardedFetch, outboundTarget } from "./guarded-fetch";

export const DOCUMENT_FETCH_TIMEOUT_MS = 5_000;
const DOCUMENT_CACHE_BYTES = 512 * 1024;

export type ClientLookup =
  | { ok: true; client: OAuthClient }
  | { ok: false; reason: "unknown" }
  /** A URL client_id whose document could not be used: `detail` says why, for the page or the error. */
  | { ok: false; reason: "document"; detail: string };

const documents = new BoundedCache<OAuthClient>({
  maxBytes: DOCUMENT_CACHE_BYTES,
  ttlMs: CACHE_CEILING_MS,
  sizeOf: (client) => stringBytes(JSON.stringify(client)),
});
const inFlight = new Map<string, Promise<ClientLookup>>();

/** The client `clientId` names. Throws the 429 OAuthError when a needed fetch is over its limits. */
export async function findClient(env: Env, request: Request, clientId: string | null): Promise<ClientLookup> {
  if (!isMetadataClientId(clientId)) {
    const client = await getClient(env, clientId);
    return client ? { ok: true, client } : { ok: false, reason: "unknown" };
  }
  const check = checkClientIdUrl(clientId);
  if (!check.ok) return { ok: false, reason: "document", detail: check.reason };
  const policy = { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS };
  const target = outboundTarget(check.url, policy);
  if (!target.ok) return { ok: false, reason: "document", detail: target.reason };

  const cached = documents.get(clientId);
  if (cached) return { ok: true, client: cached };
  const pending = inFlight.get(clientId);
  if (pending) return pending;
  await admitMetadataFetch(env, request, check.url.hostname);
  const fetching = fetchDocument(clientId, check.url, policy.allowLoopback).finally(() => inFlight.delete(clientId));
  inFlight.set(clientId, fetching);
  return fetching;
}

async function fetchDocument(clientId: string, url: URL, allowLoopback: boolean): Promise<ClientLookup> {
  const fail = (detail: string): ClientLookup => ({ ok: false, reason: "document", detail });
  const res = await guardedFetch(url, { allowLoopback, maxBytes: MAX_DOCUMENT_BYTES, timeoutMs: DOCUMENT_FETCH_TIMEOUT_MS });
  if (!res.ok) return fail(`the document could not be fetched: ${res.detail}`);
  if (res.status !== 200) return fail(`the document could not be fetched: ${url.host} answered ${res.status}`);
  const type = res.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return fail(`the document must be served as application/json, not ${type ?? "no type"}`);
  const doc = clientFromDocument(clientId, res.body);
  if (!doc.ok) return fail(doc.reason);
  const lifetime = cacheLifetimeMs(res.headers.get("cache-control"));
  if (lifetime > 0) documents.set(clientId, doc.client, Date.now(), lifetime);
  return { ok: true, client: doc.client };
}
