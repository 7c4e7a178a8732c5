/**
 * OAuth 2.1 for MCP clients (MCP authorization 2025-06-18 / 2025-11-25): the RFC 9728
 * and RFC 8414 documents, dynamic client registration (RFC 7591), the `/authorize`
 * page (a tenant key approves one MCP URL), PKCE (S256 only), the code and refresh
 * grants, and the MCP endpoint accepting a token only at its own tenant and server.
 *
 * Raw requests through `SELF`, as in the other workerd tests, so statuses, headers
 * and redirects are visible. Token expiry is set in the tenant's SQLite directly
 * (`runInDurableObject`), never waited for.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  ORIGIN,
  admin,
  adminOk,
  callTool,
  expectRpcError,
  initializeParams,
  listSessions,
  mcpFetch,
  mcpUrl,
  openSession,
  provisionTenant,
  rpc,
  statelessTool,
  tenantObject,
  textOf,
  type Tenant,
} from "./helpers";
import {
  REDIRECT_URI,
  approve,
  authorizeUrl,
  getPage,
  hiddenFields,
  oauthError,
  pkcePair,
  postForm,
  register,
  registerRequest,
  tokenRequest,
  tokensFor,
  tokensOk,
  type Tokens,
} from "./oauth-helpers";


/** A request the MCP endpoint must refuse as an invalid token (RFC 6750 §3.1), naming its own metadata. */
async function expectInvalidToken(res: Response, tenant: string, server: string): Promise<void> {
  expect(res.headers.get("www-authenticate")).toBe(
    `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked, or was issued for another MCP server", ` +
      `resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp/${tenant}/${server}"`,
  );
  await expectRpcError(res, 401);
}

const initialize = (url: string, token: string) => mcpFetch(url, { key: token, body: rpc("initialize", initializeParams("2025-11-25")) });

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  a = await provisionTenant({ prefix: "oa", servers: ["notes", "everything"] });
  b = await provisionTenant({ prefix: "ob", servers: ["notes", "everything"] });
});

// --- discovery ------------------------------------------------------------------------

describe("metadata", () => {
  it("routes:resource-metadata platform:oauth — RFC 9728 names SMCP's authorization server, and the 401 points at it", async () => {
    const unauthenticated = await mcpFetch(mcpUrl(a.tenant, "notes"), { body: rpc("ping") });
    const challenge = unauthenticated.headers.get("www-authenticate")!;
    await expectRpcError(unauthenticated, 401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    expect(metadataUrl).toBe(`${ORIGIN}/.well-known/oauth-protected-resource/mcp/${a.tenant}/notes`);

    const res = await SELF.fetch(metadataUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toMatchObject({
      resource: mcpUrl(a.tenant, "notes"),
      authorization_servers: [ORIGIN],
      scopes_supported: ["mcp"],
      bearer_methods_supported: ["header"],
    });
  });

  it("platform:oauth — RFC 8414: issuer, endpoints, code flow with S256 only, refresh, DCR", async () => {
    const res = await SELF.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const doc = await res.json<Record<string, unknown>>();
    expect(doc).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/authorize`,
      token_endpoint: `${ORIGIN}/token`,
      registration_endpoint: `${ORIGIN}/register`,
      revocation_endpoint: `${ORIGIN}/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(doc.token_endpoint_auth_methods_supported).toContain("none");
    const preflight = await SELF.fetch(`${ORIGIN}/token`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
  });
});

// --- registration -------------------------------------------------------------------------

describe("dynamic client registration", () => {
  it("platform:oauth — a public client gets an id and no secret; a confidential one a secret, shown once", async () => {
    const pub = await register();
    expect(pub.client_id).toMatch(/^mcpc_/);
    expect(pub.client_secret).toBeUndefined();
    expect(pub.grant_types).toEqual(["authorization_code", "refresh_token"]);

    const conf = await register({ token_endpoint_auth_method: "client_secret_basic" });
    expect(conf.client_secret).toMatch(/^smcp_cs_/);
    const stored = await env.OAUTH_KV.get(`client:${conf.client_id}`);
    expect(stored).not.toContain(conf.client_secret!);
    expect(stored).toContain(await sha256Hex(conf.client_secret!));
  });

  it("platform:oauth — bad redirect URIs and metadata are refused with RFC 7591 errors", async () => {
    const cases: [unknown, string][] = [
      [{ redirect_uris: ["http://evil.example/cb"] }, "invalid_redirect_uri"],
      [{ redirect_uris: ["javascript:alert(1)"] }, "invalid_redirect_uri"],
      [{ redirect_uris: ["https://app.example/cb#frag"] }, "invalid_redirect_uri"],
      [{ redirect_uris: [] }, "invalid_redirect_uri"],
      [{ client_name: "no redirect" }, "invalid_redirect_uri"],
      [{ redirect_uris: [REDIRECT_URI], grant_types: ["client_credentials"] }, "invalid_client_metadata"],
      [{ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata"],
      ["[not json", "invalid_client_metadata"],
    ];
    for (const [body, error] of cases) {
      await oauthError(await registerRequest(body), 400, error);
    }
  });
});

// --- the authorize page ----------------------------------------------------------------------

describe("authorize", () => {
  it("platform:oauth — a form with no script, a strict CSP, and every client-chosen value escaped", async () => {
    const client = await register({ client_name: `<img src=x onerror=alert(1)>"'` });
    const { challenge } = await pkcePair();
    const res = await getPage(authorizeUrl(client, mcpUrl(a.tenant, "notes"), challenge, { state: `"><script>alert(2)</script>` }));
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:33418");
    expect(csp).not.toContain("script-src");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(html).not.toMatch(/<script|<img|<link|<iframe/i);
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;&#34;&#39;");
    expect(html).toContain(`name="api_key" type="password"`);
    expect(html).toContain(mcpUrl(a.tenant, "notes"));
  });

  it("platform:oauth — an unknown client or unregistered redirect URI is shown an error, never redirected", async () => {
    const client = await register();
    const { challenge } = await pkcePair();
    const cases: Record<string, string | null>[] = [{ client_id: "mcpc_AAAAAAAAAAAAAAAAAAAAAAAA" }, { redirect_uri: "https://evil.example/cb" }, { redirect_uri: null }];
    for (const extra of cases) {
      const res = await getPage(authorizeUrl(client, mcpUrl(a.tenant, "notes"), challenge, extra));
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    }
  });

  it("platform:oauth — PKCE missing or plain, a bad response_type: redirected back with the error, state and iss to a client trusted by the tenant", async () => {
    // A client that has redeemed a code with tenant a (oauth-abuse.test.ts covers the untrusted case).
    const { client } = await tokensFor(a, "notes");
    const { challenge } = await pkcePair();
    const cases: [Record<string, string | null>, string][] = [
      [{ code_challenge: null }, "invalid_request"],
      [{ code_challenge_method: null }, "invalid_request"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ response_type: "token" }, "unsupported_response_type"],
    ];
    for (const [extra, error] of cases) {
      const res = await getPage(authorizeUrl(client, mcpUrl(a.tenant, "notes"), challenge, extra));
      expect(res.status, JSON.stringify(extra)).toBe(302);
      const query = new URL(res.headers.get("location")!).searchParams;
      expect(query.get("error"), JSON.stringify(extra)).toBe(error);
      expect(query.get("state")).toBe("st4te");
      expect(query.get("iss")).toBe(ORIGIN);
      expect(query.get("code")).toBeNull();
    }
    // A resource that names no tenant of ours leaves no tenant to trust the client: shown here.
    for (const resource of [null, "https://other.example/mcp/x/notes", `${ORIGIN}/admin/v1/tenants`]) {
      const res = await getPage(authorizeUrl(client, mcpUrl(a.tenant, "notes"), challenge, { resource }));
      expect(res.status, String(resource)).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("invalid_target");
    }
  });

  it("platform:oauth — a wrong key, another tenant's key, or no key re-shows the form; deny returns access_denied to a trusted client", async () => {
    const client = await register();
    const { challenge } = await pkcePair();
    const page = await getPage(authorizeUrl(client, mcpUrl(a.tenant, "notes"), challenge));
    const form = hiddenFields(await page.text());
    for (const [key, status] of [[`smcp_sk_${"A".repeat(43)}`, 401], [b.key!, 401], ["", 400]] as const) {
      form.set("api_key", key);
      form.set("decision", "approve");
      const res = await postForm("/authorize", form);
      expect(res.status, key).toBe(status);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("role=\"alert\"");
    }
    form.set("decision", "deny");
    // The client has not redeemed a code with this tenant: the denial is shown here, not redirected.
    const denied = await postForm("/authorize", form);
    expect(denied.status).toBe(403);
    expect(denied.headers.get("location")).toBeNull();
    await tokensFor(a, "notes", client);
    const deniedTrusted = await postForm("/authorize", form);
    expect(deniedTrusted.status).toBe(302);
    expect(new URL(deniedTrusted.headers.get("location")!).searchParams.get("error")).toBe("access_denied");

    form.set("api_key", a.key!);
    form.set("decision", "approve");
    const crossSite = await postForm("/authorize", form, { Origin: "https://evil.example" });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get("location")).toBeNull();
  });
});

// --- the token endpoint ----------------------------------------------------------------------

describe("token endpoint", () => {
  it("platform:oauth — no verifier or a wrong one is refused; the right one gets tokens, stored only as hashes", async () => {
    const client = await register();
    const { verifier, challenge } = await pkcePair();
    const code = (await approve(client, mcpUrl(a.tenant, "notes"), challenge, a.key!)).get("code")!;
    const base = { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: client.client_id };

    await oauthError(await tokenRequest(base), 400, "invalid_request");
    await oauthError(await tokenRequest({ ...base, code_verifier: (await pkcePair()).verifier }), 400, "invalid_grant");
    await oauthError(await tokenRequest({ ...base, code_verifier: "short" }), 400, "invalid_grant");
    await oauthError(await tokenRequest({ ...base, code_verifier: verifier, redirect_uri: "http://127.0.0.1:33418/other" }), 400, "invalid_grant");
    await oauthError(await tokenRequest({ ...base, code_verifier: verifier, resource: mcpUrl(a.tenant, "everything") }), 400, "invalid_target");

    // The clock stands still while the token is minted, so its lifetime is exactly one hour.
    vi.useFakeTimers({ toFake: ["Date"] });
    let tokens: Tokens;
    try {
      tokens = await tokensOk(await tokenRequest({ ...base, code_verifier: verifier }));
    } finally {
      vi.useRealTimers();
    }
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.scope).toBe("mcp");
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.access_token).toMatch(new RegExp(`^smcp_at_${a.tenant}\\.`));
    expect(tokens.refresh_token).toMatch(new RegExp(`^smcp_rt_${a.tenant}\\.`));

    const stored = await runInDurableObject(tenantObject(a.tenant), (_o, state) =>
      JSON.stringify([
        state.storage.sql.exec("SELECT * FROM oauth_tokens").toArray(),
        state.storage.sql.exec("SELECT * FROM oauth_codes").toArray(),
      ]),
    );
    for (const secret of [tokens.access_token, tokens.refresh_token, code]) {
      expect(stored).not.toContain(secret);
      expect(stored).toContain(await sha256Hex(secret));
    }
  });

  it("platform:oauth — a code redeemed twice is refused and revokes the tokens it gave", async () => {
    const client = await register();
    const { verifier, challenge } = await pkcePair();
    const code = (await approve(client, mcpUrl(a.tenant, "notes"), challenge, a.key!)).get("code")!;
    const exchange = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id };
    const tokens = await tokensOk(await tokenRequest(exchange));
    await oauthError(await tokenRequest(exchange), 400, "invalid_grant");
    await expectInvalidToken(await initialize(mcpUrl(a.tenant, "notes"), tokens.access_token), a.tenant, "notes");
  });

  it("platform:oauth — a refresh gives a working token pair; refresh tokens rotate, and a replay revokes the grant", async () => {
    const first = await tokensFor(a, "notes");
    const refresh = (token: string) =>
      tokenRequest({ grant_type: "refresh_token", refresh_token: token, client_id: first.client.client_id, resource: mcpUrl(a.tenant, "notes") });

    const second = await tokensOk(await refresh(first.refresh_token));
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const session = await openSession(mcpUrl(a.tenant, "notes"), second.access_token);
    await callTool(session, "add_note", { title: "after refresh", body: "refresh-marker" });
    expect(textOf(await statelessTool(mcpUrl(a.tenant, "notes"), second.access_token, "search_notes", { query: "refresh-marker" }))).toContain("after refresh");

    const third = await tokensOk(await refresh(second.refresh_token));
    await oauthError(await refresh(first.refresh_token), 400, "invalid_grant");
    // The replay revoked the whole grant: the newest pair is dead too.
    await expectInvalidToken(await initialize(mcpUrl(a.tenant, "notes"), third.access_token), a.tenant, "notes");
    await oauthError(await refresh(third.refresh_token), 400, "invalid_grant");
  });

  it("platform:oauth — a refresh token works only for the client it was issued to", async () => {
    const tokens = await tokensFor(a, "notes");
    const other = await register();
    await oauthError(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: other.client_id }), 400, "invalid_grant");
    await tokensOk(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: tokens.client.client_id }));
  });

  it("platform:oauth — a confidential client must authenticate; unknown clients and grant types are refused", async () => {
    const client = await register({ token_endpoint_auth_method: "client_secret_basic" });
    const { verifier, challenge } = await pkcePair();
    const code = (await approve(client, mcpUrl(a.tenant, "notes"), challenge, a.key!)).get("code")!;
    const exchange = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI };
    await oauthError(await tokenRequest({ ...exchange, client_id: client.client_id }), 401, "invalid_client");
    const wrong = `Basic ${btoa(`${client.client_id}:smcp_cs_wrong`)}`;
    await oauthError(await tokenRequest(exchange, { Authorization: wrong }), 401, "invalid_client");
    await tokensOk(await tokenRequest(exchange, { Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` }));

    await oauthError(await tokenRequest({ ...exchange, client_id: "mcpc_AAAAAAAAAAAAAAAAAAAAAAAA" }), 401, "invalid_client");
    const pub = await register();
    await oauthError(await tokenRequest({ grant_type: "password", client_id: pub.client_id }), 400, "unsupported_grant_type");
    await oauthError(await tokenRequest({ grant_type: "authorization_code", code: "nope", client_id: pub.client_id, code_verifier: verifier, redirect_uri: REDIRECT_URI }), 400, "invalid_grant");
  });

  it("platform:oauth — revoking an access token ends the open streams and sessions opened with it", async () => {
    const tokens = await tokensFor(a, "notes");
    const session = await openSession(mcpUrl(a.tenant, "notes"), tokens.access_token);
    const stream = await mcpFetch(mcpUrl(a.tenant, "notes"), {
      method: "GET",
      key: tokens.access_token,
      sessionId: session.sessionId,
      protocolVersion: "2025-11-25",
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the priming event

    const res = await postForm("/revoke", new URLSearchParams({ token: tokens.access_token, client_id: tokens.client.client_id }));
    expect(res.status).toBe(200);
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    expect((await listSessions(a.tenant)).map((s) => s.id)).not.toContain(session.sessionId);
  });

  it("platform:oauth — RFC 7009: revoking the refresh token ends the grant", async () => {
    const tokens = await tokensFor(a, "notes");
    const res = await postForm("/revoke", new URLSearchParams({ token: tokens.refresh_token, client_id: tokens.client.client_id }));
    expect(res.status).toBe(200);
    await expectInvalidToken(await initialize(mcpUrl(a.tenant, "notes"), tokens.access_token), a.tenant, "notes");
  });
});

// --- the MCP endpoint ------------------------------------------------------------------------

describe("access tokens at the MCP endpoint", () => {
  it("platform:oauth — a token works on both lanes; its sessions are bound to the key that approved it", async () => {
    const tokens = await tokensFor(a, "notes");
    const session = await openSession(mcpUrl(a.tenant, "notes"), tokens.access_token);
    const added = await callTool(session, "add_note", { title: "via oauth", body: "oauth-marker" });
    expect(added.isError).toBeFalsy();
    const listed = (await listSessions(a.tenant)).find((s) => s.id === session.sessionId);
    expect(listed).toMatchObject({ server: "notes", keyId: a.keyId });
    const found = await statelessTool(mcpUrl(a.tenant, "notes"), tokens.access_token, "search_notes", { query: "oauth-marker" });
    expect(textOf(found)).toContain("via oauth");
    // The tenant key keeps working beside the token.
    expect((await initialize(mcpUrl(a.tenant, "notes"), a.key!)).status).toBe(200);
  });

  it("platform:oauth isolation:tenants — a token for tenant A is refused at tenant B with invalid_token", async () => {
    const tokens = await tokensFor(a, "notes");
    await expectInvalidToken(await initialize(mcpUrl(b.tenant, "notes"), tokens.access_token), b.tenant, "notes");
    const session = await openSession(mcpUrl(a.tenant, "notes"), tokens.access_token);
    const res = await mcpFetch(mcpUrl(b.tenant, "notes"), { key: tokens.access_token, sessionId: session.sessionId, body: rpc("ping") });
    await expectInvalidToken(res, b.tenant, "notes");
  });

  it("platform:oauth — a token for server X is refused at server Y of the same tenant", async () => {
    const tokens = await tokensFor(a, "notes");
    await expectInvalidToken(await initialize(mcpUrl(a.tenant, "everything"), tokens.access_token), a.tenant, "everything");
    // A session opened with the token on X is not reachable from Y either.
    const session = await openSession(mcpUrl(a.tenant, "notes"), tokens.access_token);
    const res = await mcpFetch(mcpUrl(a.tenant, "everything"), { key: tokens.access_token, sessionId: session.sessionId, body: rpc("ping") });
    await expectInvalidToken(res, a.tenant, "everything");
  });

  it("platform:oauth — garbage, expired, and revoked-key tokens get 401 invalid_token", async () => {
    const url = mcpUrl(a.tenant, "notes");
    // ("abc", shaped as no credential at all, is reported as a malformed key: error-messages.test.ts.)
    for (const garbage of [`smcp_at_${a.tenant}.${"A".repeat(43)}`, `smcp_rt_${a.tenant}.${"A".repeat(43)}`]) {
      await expectInvalidToken(await initialize(url, garbage), a.tenant, "notes");
    }

    const expiring = await tokensFor(a, "notes");
    const hash = await sha256Hex(expiring.access_token);
    await runInDurableObject(tenantObject(a.tenant), (_o, state) => {
      state.storage.sql.exec("UPDATE oauth_tokens SET expires_at = ? WHERE hash = ?", Date.now() - 1, hash);
    });
    await expectInvalidToken(await initialize(url, expiring.access_token), a.tenant, "notes");
    // The refresh token of the same grant still gets a fresh access token.
    const refreshed = await tokensOk(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: expiring.refresh_token, client_id: expiring.client.client_id }),
    );
    expect((await initialize(url, refreshed.access_token)).status).toBe(200);

    // Revoking the key that approved a grant ends it: its tokens and its refresh.
    const t = await provisionTenant({ prefix: "orv", servers: ["notes"] });
    const tokens = await tokensFor(t, "notes");
    expect(await adminOk("DELETE", `/tenants/${t.tenant}/keys/${t.keyId}`)).toEqual({ revoked: t.keyId, alreadyRevoked: false, sessionsEnded: 0, sessionsFailed: [] });
    await expectInvalidToken(await initialize(mcpUrl(t.tenant, "notes"), tokens.access_token), t.tenant, "notes");
    await oauthError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: tokens.client.client_id }),
      400,
      "invalid_grant",
    );
  });

  it("platform:oauth — deleting the tenant deletes its grants", async () => {
    const t = await provisionTenant({ prefix: "odel", servers: ["notes"] });
    const tokens = await tokensFor(t, "notes");
    expect((await admin("DELETE", `/tenants/${t.tenant}`)).status).toBe(200);
    await expectInvalidToken(await initialize(mcpUrl(t.tenant, "notes"), tokens.access_token), t.tenant, "notes");
  });
});

// --- session creation re-checks the grant (issue 10, item 9) ------------------------------------

describe("session creation re-checks the grant", () => {
  it("platform:session-end auth:revoke-10s — a grant revoked seconds ago cannot create a session, though the Worker's token cache still admits it", async () => {
    const tokens = await tokensFor(a, "notes");
    await openSession(mcpUrl(a.tenant, "notes"), tokens.access_token); // the Worker now caches the token as valid
    const revoked = await postForm("/revoke", new URLSearchParams({ token: tokens.refresh_token, client_id: tokens.client.client_id }));
    expect(revoked.status).toBe(200);
    const before = (await listSessions(a.tenant)).length;

    const res = await initialize(mcpUrl(a.tenant, "notes"), tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await res.body?.cancel();
    expect((await listSessions(a.tenant)).length).toBe(before);
  });
});
