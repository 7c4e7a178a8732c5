/**
 * An OAuth client by hand, for the workerd tests of the authorization server
 * (oauth.test.ts, oauth-abuse.test.ts): registration, the `/authorize` page and its
 * form, PKCE, and token requests, as raw requests through `SELF`.
 *
 * Every request names its client address in `CF-Connecting-IP`, as Cloudflare's edge
 * does. The OAuth endpoints are rate limited per address with the low limits of
 * vitest.config.ts, so a helper called without `from` uses a fresh random address:
 * tests about something else never meet a limit, and tests about the limits pass the
 * address they count under.
 */
import { SELF } from "cloudflare:test";
import { base64url, sha256 } from "@smcp/runtime";
import { expect } from "vitest";
import { ORIGIN, mcpUrl, type Tenant } from "./helpers";

export const REDIRECT_URI = "http://127.0.0.1:33418/callback";

/** Matches the SMCP_OAUTH_* values of vitest.config.ts. */
export const OAUTH_LIMITS = { register: 6, authorize: 8, token: 8, perTenant: 150, clientsPerAddress: 3, metadataFetchesPerAddress: 3, metadataFetchesPerHost: 5 };

/** A documentation-range IPv4 address (RFC 5737) no other test uses. */
export function randomAddress(): string {
  const [x, y, z] = crypto.getRandomValues(new Uint8Array(3));
  return `198.${18 + (x! % 2)}.${y}.${z}`;
}

/** A unique IPv6 address (2001:db8::/32, RFC 3849) in a /64 of its own. */
export function randomAddress6(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint16Array(3));
  return `2001:db8:${a!.toString(16)}:${b!.toString(16)}::${c!.toString(16)}`;
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
}

export function registerRequest(metadata: unknown, from = randomAddress()): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": from },
    body: typeof metadata === "string" ? metadata : JSON.stringify(metadata),
  });
}

export async function register(metadata: Record<string, unknown> = {}, from = randomAddress()): Promise<RegisteredClient> {
  const res = await registerRequest(
    { client_name: "workerd tests", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none", ...metadata },
    from,
  );
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text);
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await sha256(verifier));
  return { verifier, challenge };
}

export function authorizeUrl(client: RegisteredClient, resource: string, challenge: string, extra: Record<string, string | null> = {}): string {
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st4te",
    resource,
    ...extra,
  };
  const url = new URL(`${ORIGIN}/authorize`);
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.set(name, value);
  return url.href;
}

/** GET a URL of this origin (the `/authorize` page), without following redirects. */
export function getPage(url: string, from = randomAddress()): Promise<Response> {
  return SELF.fetch(url, { headers: { "CF-Connecting-IP": from }, redirect: "manual" });
}

/** The hidden fields of the consent form, as a browser would submit them. */
export function hiddenFields(html: string): URLSearchParams {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(m[1]!, m[2]!.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))));
  }
  return form;
}

export function postForm(path: string, form: URLSearchParams, headers: Record<string, string> = {}, from = randomAddress()): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": from, ...headers },
    body: form.toString(),
    redirect: "manual",
  });
}

/** GET the page, submit it with `key`; returns the redirect's query. */
export async function approve(client: RegisteredClient, resource: string, challenge: string, key: string, from = randomAddress()): Promise<URLSearchParams> {
  const page = await getPage(authorizeUrl(client, resource, challenge), from);
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const form = hiddenFields(html);
  form.set("api_key", key);
  form.set("decision", "approve");
  const res = await postForm("/authorize", form, {}, from);
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  return location.searchParams;
}

export function tokenRequest(fields: Record<string, string>, headers: Record<string, string> = {}, from = randomAddress()): Promise<Response> {
  return postForm("/token", new URLSearchParams(fields), headers, from);
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

export async function tokensOk(res: Response): Promise<Tokens> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return JSON.parse(text);
}

/** An OAuth JSON error with this status and code; returns its description. */
export async function oauthError(res: Response, status: number, error: string): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text);
  expect(body.error, text).toBe(error);
  return body.error_description;
}

/** The whole flow for one MCP URL: register, approve with the key, redeem the code. */
export async function tokensFor(t: Tenant, server: string, client?: RegisteredClient, from = randomAddress()): Promise<Tokens & { client: RegisteredClient }> {
  const c = client ?? (await register({}, from));
  const { verifier, challenge } = await pkcePair();
  const query = await approve(c, mcpUrl(t.tenant, server), challenge, t.key!, from);
  const tokens = await tokensOk(
    await tokenRequest(
      {
        grant_type: "authorization_code",
        code: query.get("code")!,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id: c.client_id,
        resource: mcpUrl(t.tenant, server),
      },
      {},
      from,
    ),
  );
  return { ...tokens, client: c };
}

