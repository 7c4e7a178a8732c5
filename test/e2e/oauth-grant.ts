/**
 * One OAuth grant through the real flow against `wrangler dev`, by hand: register a
 * public client, GET the approval page, submit its form with the tenant key (as the
 * person approving would), and redeem the code with PKCE. For tests that need a grant
 * to exist (the CLI's and the dashboard's grant views); oauth.test.ts drives the same
 * flow through the SDK client.
 */
import { createHash, randomBytes } from "node:crypto";
import { expect } from "vitest";
import { approveWithKey } from "./oauth-client";

/** Never listened on: the redirect is read from the 302. */
const REDIRECT_URI = "http://127.0.0.1:33420/callback";

export interface E2eGrant {
  clientId: string;
  accessToken: string;
  refreshToken: string;
}

export async function oauthGrant(origin: string, tenant: string, server: string, key: string, clientName: string): Promise<E2eGrant> {
  const registered = await fetch(`${origin}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: clientName, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }),
  });
  expect(registered.status).toBe(201);
  const { client_id: clientId } = (await registered.json()) as { client_id: string };

  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const resource = `${origin}/mcp/${tenant}/${server}`;
  const authorize = new URL("/authorize", origin);
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "e2e",
    resource,
  })) {
    authorize.searchParams.set(name, value);
  }
  const { callback } = await approveWithKey(authorize, key, REDIRECT_URI);
  const code = callback.get("code")!;

  const token = await fetch(`${origin}/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, resource }),
  });
  const tokens = (await token.json()) as { access_token: string; refresh_token: string };
  expect(token.status, JSON.stringify(tokens)).toBe(200);
  return { clientId, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}
