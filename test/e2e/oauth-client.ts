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
// @ts-expect-error plain ESM helper shared with scripts/conformance-authorization.mjs
import { decodeEntities, readApprovalPage, submitApproval } from "../../scripts/lib/approval-page.mjs";

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

export { decodeEntities };

/**
 * Plays the key holder at the /authorize page: reads it, submits its form with the key,
 * and returns the page and the query of the redirect to `redirectUri`.
 */
export async function approveWithKey(authorizationUrl: URL, key: string, redirectUri: string): Promise<{ page: Response; html: string; callback: URLSearchParams }> {
  const { page, html } = await readApprovalPage(authorizationUrl);
  expect(page.status, html).toBe(200);
  const res = await submitApproval(authorizationUrl, html, key);
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  return { page, html, callback: location.searchParams };
}
