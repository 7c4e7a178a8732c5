/**
 * The two halves of an OAuth flow the e2e tests play: an `OAuthClientProvider` that keeps
 * everything in memory (as a CLI client would in a file), given the client's metadata and,
 * for a Client ID Metadata Document client, its document URL; and the person at the
 * /authorize page, who submits the form with a tenant key. Shared by oauth.test.ts,
 * oauth-cimd.test.ts and oauth-grant.ts.
 */
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { expect } from "vitest";

export class MemoryOAuthProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  #client: StoredOAuthClientInformation | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #verifier: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  readonly #metadata: OAuthClientMetadata;
  /** Set for a metadata-document client: the SDK then sends it as client_id instead of registering. */
  readonly clientMetadataUrl: string | undefined;

  constructor(metadata: OAuthClientMetadata, clientMetadataUrl?: string) {
    this.#metadata = metadata;
    this.clientMetadataUrl = clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.#metadata.redirect_uris[0]!;
  }
  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    if (!this.#verifier) throw new Error("no code verifier saved");
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
}

export const decodeEntities = (value: string) => value.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

/**
 * Plays the key holder at the /authorize page: reads it, submits its form with the key,
 * and returns the page and the query of the redirect to `redirectUri`.
 */
export async function approveWithKey(authorizationUrl: URL, key: string, redirectUri: string): Promise<{ page: Response; html: string; callback: URLSearchParams }> {
  const page = await fetch(authorizationUrl, { redirect: "manual" });
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1]!, decodeEntities(m[2]!));
  form.set("api_key", key);
  form.set("decision", "approve");
  const res = await fetch(new URL("/authorize", authorizationUrl), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
    redirect: "manual",
  });
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  return { page, html, callback: location.searchParams };
}
