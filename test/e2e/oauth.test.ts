// OAuth end to end: the official SDK client connects to `wrangler dev` with no key,
// as an MCP client of a hosted service would. It gets a 401, discovers the RFC 9728
// and RFC 8414 metadata, registers itself, and sends the user to /authorize; the test
// plays the user (submits the form with the tenant key) and hands the redirect back
// to the SDK, which redeems the code and connects.
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type FetchLike,
  type OAuthClientMetadata,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryOAuthProvider, approveWithKey } from "./oauth-client";
import { Platform, textOf } from "./platform";

/** Never listened on: the test reads the authorization redirect itself. */
const REDIRECT_URI = "http://127.0.0.1:33419/callback";

const CLIENT_METADATA: OAuthClientMetadata = {
  client_name: "smcp e2e",
  redirect_uris: [REDIRECT_URI],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

/** Plays the user at the /authorize page (a strict CSP on it), returns the redirect's query. */
async function approveInBrowser(authorizationUrl: URL, key: string): Promise<URLSearchParams> {
  const { page, callback } = await approveWithKey(authorizationUrl, key, REDIRECT_URI);
  expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
  return callback;
}

const platform = new Platform();
let acme: { tenant: string; key: string; keyId: string };

beforeAll(async () => {
  await platform.start();
  acme = (await platform.tenant("acme")) as typeof acme;
});
afterAll(() => platform.dispose());

describe("OAuth with the SDK client", () => {
  const provider = new MemoryOAuthProvider(CLIENT_METADATA);
  const seen: string[] = [];
  const recordingFetch: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    seen.push(`${init?.method ?? "GET"} ${new URL(String(url)).pathname} ${res.status}`);
    return res;
  };
  const transportFor = (server: string) =>
    new StreamableHTTPClientTransport(platform.mcpUrl(acme.tenant, server), { authProvider: provider, fetch: recordingFetch });

  it("platform:oauth auth:401 — gets 401, discovers, registers, is sent to /authorize, and connects after the key holder approves", async () => {
    const first = new Client({ name: "smcp-e2e-oauth", version: "1.0.0" });
    await expect(first.connect(transportFor("notes"))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(seen).toEqual(
      expect.arrayContaining([
        "POST /mcp/acme/notes 401",
        "GET /.well-known/oauth-protected-resource/mcp/acme/notes 200",
        "GET /.well-known/oauth-authorization-server 200",
        "POST /register 201",
      ]),
    );

    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.pathname).toBe("/authorize");
    expect(authorizationUrl.searchParams.get("resource")).toBe(platform.mcpUrl(acme.tenant, "notes").href);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");
    const callback = await approveInBrowser(authorizationUrl, acme.key);
    expect(callback.get("iss")).toBe(platform.url);

    const transport = transportFor("notes");
    await transport.finishAuth(callback);
    expect(provider.tokens()?.access_token).toMatch(/^smcp_at_acme\./);
    expect(seen).toContain("POST /token 200");

    const client = new Client({ name: "smcp-e2e-oauth", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["add_note", "delete_note", "list_notes", "search_notes"]);
    await client.callTool({ name: "add_note", arguments: { title: "authorized", body: "written with an OAuth token" } });
    const found = await client.callTool({ name: "search_notes", arguments: { query: "OAuth token" } });
    expect(textOf(found)).toContain("authorized");

    // The session is bound to the key that approved the grant.
    const { sessions } = await platform.admin().call("GET", `/tenants/${acme.tenant}/sessions`);
    expect(sessions.find((s: { id: string }) => s.id === transport.sessionId)).toMatchObject({ server: "notes", keyId: acme.keyId });
    await client.close();
  });

  it("platform:oauth stateless:requests — works on the stateless lane with the same token", async () => {
    const client = new Client({ name: "smcp-e2e-oauth", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(transportFor("notes"));
    const found = await client.callTool({ name: "search_notes", arguments: { query: "OAuth token" } });
    expect(textOf(found)).toContain("authorized");
    await client.close();
  });

  it("platform:oauth — refreshes when the server refuses the access token", async () => {
    const tokens = provider.tokens()!;
    // As if the access token had expired: the server answers 401 invalid_token.
    provider.saveTokens({ ...tokens, access_token: `smcp_at_acme.${"A".repeat(43)}` });
    seen.length = 0;
    const client = new Client({ name: "smcp-e2e-oauth", version: "1.0.0" });
    await client.connect(transportFor("notes"));
    expect(seen.slice(0, 3)).toEqual(["POST /mcp/acme/notes 401", "POST /token 200", "POST /mcp/acme/notes 200"]);
    expect(provider.tokens()!.refresh_token).not.toBe(tokens.refresh_token);
    const listed = await client.callTool({ name: "list_notes", arguments: {} });
    expect(textOf(listed)).toContain("authorized");
    await client.close();
  });

  it("platform:oauth — a token for one server is refused at another", async () => {
    seen.length = 0;
    const transport = new StreamableHTTPClientTransport(platform.mcpUrl(acme.tenant, "everything"), {
      requestInit: { headers: { Authorization: `Bearer ${provider.tokens()!.access_token}` } },
      fetch: recordingFetch,
    });
    const client = new Client({ name: "smcp-e2e-oauth", version: "1.0.0" });
    await expect(client.connect(transport)).rejects.toThrow();
    expect(seen[0]).toBe("POST /mcp/acme/everything 401");
  });
});
