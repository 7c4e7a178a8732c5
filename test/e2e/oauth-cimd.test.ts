// Client ID Metadata Documents end to end: a Node HTTPS server on loopback serves the
// documents, with a certificate of a CA made by openssl for this run; `wrangler dev`
// trusts that CA through NODE_EXTRA_CA_CERTS (workerd's outbound TLS reads it) and runs
// with SMCP_ALLOW_LOOPBACK_EGRESS, since the server is on this machine. The official
// SDK client, given a `clientMetadataUrl`, uses the URL as its client_id: no
// registration, the approval page shows the document's name, and the code is redeemed
// with the URL as a public client. The server counts its fetches, so caching shows.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type FetchLike,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLoopbackCertificates } from "../../scripts/lib/loopback-tls.mjs";
import { MemoryOAuthProvider, approveWithKey, decodeEntities as decode } from "./oauth-client";
import { Platform, textOf } from "./platform";

const REDIRECT_URI = "http://127.0.0.1:33421/callback";
const CLIENT_NAME = "CIMD <e2e> client";

const dir = mkdtempSync(path.join(tmpdir(), "smcp-cimd-"));
const certs = makeLoopbackCertificates(dir);
const fetches = new Map<string, number>();
let origin = "";
const docUrl = (name: string) => `${origin}/clients/${name}.json`;

function documentFor(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: docUrl(name),
    client_name: CLIENT_NAME,
    redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...overrides,
  };
}

/** What the document server answers for each path: status, headers, body. */
function answer(pathname: string): { status: number; headers: Record<string, string>; body: string } {
  const json = (doc: unknown, cache = "max-age=600") => ({
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": cache },
    body: JSON.stringify(doc),
  });
  const name = /^\/clients\/([a-z-]+)\.json$/.exec(pathname)?.[1] ?? "";
  switch (name) {
    case "app":
      return json(documentFor("app"));
    case "no-store":
      return json(documentFor("no-store"), "no-store");
    case "other-id":
      return json(documentFor("other-id", { client_id: docUrl("app") }));
    case "oversized":
      return json(documentFor("oversized", { client_name: "x", logo_uri: `https://example.com/${"a".repeat(6000)}` }));
    case "bad-redirect":
      return json(documentFor("bad-redirect", { redirect_uris: ["http://attacker.example.com/callback"] }));
    case "secret":
      return json(documentFor("secret", { token_endpoint_auth_method: "client_secret_basic" }));
    case "jwt":
      return json(documentFor("jwt", { token_endpoint_auth_method: "private_key_jwt" }));
    case "html":
      return { status: 200, headers: { "Content-Type": "text/html" }, body: JSON.stringify(documentFor("html")) };
    case "moved":
      return { status: 302, headers: { Location: docUrl("moved-here") }, body: "" };
    case "moved-here":
      return json(documentFor("moved"));
    case "to-http":
      return { status: 302, headers: { Location: docUrl("app").replace("https:", "http:") }, body: "" };
    default:
      return { status: 404, headers: { "Content-Type": "text/plain" }, body: "not found" };
  }
}

const documents: Server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
  const pathname = new URL(req.url ?? "/", "https://localhost").pathname;
  fetches.set(pathname, (fetches.get(pathname) ?? 0) + 1);
  const { status, headers, body } = answer(pathname);
  res.writeHead(status, headers).end(body);
});
const fetchesOf = (name: string) => fetches.get(`/clients/${name}.json`) ?? 0;

/** A client that identifies itself by the URL of its metadata document. */
const cimdClient = (documentUrl: string) =>
  new MemoryOAuthProvider({ client_name: CLIENT_NAME, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }, documentUrl);

const approve = (authorizationUrl: URL, key: string) => approveWithKey(authorizationUrl, key, REDIRECT_URI);

const platform = new Platform({ env: { NODE_EXTRA_CA_CERTS: certs.ca } });
let acme: { tenant: string; key: string };

beforeAll(async () => {
  documents.listen(0, "127.0.0.1");
  await once(documents, "listening");
  origin = `https://localhost:${(documents.address() as { port: number }).port}`;
  await platform.start();
  acme = await platform.tenant("acme");
});
afterAll(async () => {
  await platform.dispose();
  documents.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The /authorize page for `clientId`, up to the client check (which comes first). */
async function authorizePage(clientId: string): Promise<{ status: number; html: string }> {
  const url = new URL("/authorize", platform.url);
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, html: decode(await res.text()) };
}

describe("Client ID Metadata Documents with the SDK client", () => {
  const seen: string[] = [];
  const recordingFetch: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    seen.push(`${init?.method ?? "GET"} ${new URL(String(url)).pathname} ${res.status}`);
    return res;
  };

  it("auth:cimd-client platform:cimd platform:oauth auth:401 — the SDK client connects with a metadata document URL as client_id: no registration, the page shows the document's name, one fetch", async () => {
    const provider = cimdClient(docUrl("app"));
    const transportFor = () => new StreamableHTTPClientTransport(platform.mcpUrl(acme.tenant, "notes"), { authProvider: provider, fetch: recordingFetch });

    const first = new Client({ name: "smcp-e2e-cimd", version: "1.0.0" });
    await expect(first.connect(transportFor())).rejects.toBeInstanceOf(UnauthorizedError);
    expect(seen).toEqual(
      expect.arrayContaining([
        "POST /mcp/acme/notes 401",
        "GET /.well-known/oauth-protected-resource/mcp/acme/notes 200",
        "GET /.well-known/oauth-authorization-server 200",
      ]),
    );
    expect(seen.filter((line) => line.includes("/register"))).toEqual([]);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.searchParams.get("client_id")).toBe(docUrl("app"));

    const { html, callback } = await approve(authorizationUrl, acme.key);
    expect(html).toContain(`<strong>${CLIENT_NAME.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</strong>`);
    expect(decode(html)).toContain(`published by <strong>localhost:${new URL(origin).port}</strong>`);
    expect(decode(html)).toContain(REDIRECT_URI);

    const transport = transportFor();
    await transport.finishAuth(callback);
    expect(seen).toContain("POST /token 200");
    expect(provider.tokens()?.access_token).toMatch(/^smcp_at_acme\./);

    const client = new Client({ name: "smcp-e2e-cimd", version: "1.0.0" });
    await client.connect(transport);
    await client.callTool({ name: "add_note", arguments: { title: "cimd", body: "written by a metadata document client" } });
    const found = await client.callTool({ name: "search_notes", arguments: { query: "metadata document" } });
    expect(textOf(found)).toContain("cimd");
    await client.close();
    // GET and POST /authorize and POST /token: one fetch, then the cache (max-age=600).
    expect(fetchesOf("app")).toBe(1);
    expect(seen.filter((line) => line.includes("/register"))).toEqual([]);
  });

  it("platform:cimd — a second authorization within max-age does not fetch the document again", async () => {
    const provider = cimdClient(docUrl("app"));
    const transport = new StreamableHTTPClientTransport(platform.mcpUrl(acme.tenant, "notes"), { authProvider: provider, fetch: recordingFetch });
    await expect(new Client({ name: "smcp-e2e-cimd", version: "1.0.0" }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const { callback } = await approve(provider.authorizationUrl!, acme.key);
    await transport.finishAuth(callback);
    expect(provider.tokens()?.access_token).toMatch(/^smcp_at_acme\./);
    expect(fetchesOf("app")).toBe(1);
  });

  it("platform:cimd — a document served with no-store is fetched again on every use", async () => {
    for (let i = 0; i < 2; i++) {
      // The client is accepted; the bare request then fails its next check.
      const { status, html } = await authorizePage(docUrl("no-store"));
      expect(status).toBe(400);
      expect(html).toContain("response_type must be code");
    }
    expect(fetchesOf("no-store")).toBe(2);
  });

  it("platform:cimd — a redirect to another https document URL is followed and checked; the document must still name the first URL", async () => {
    const { status, html } = await authorizePage(docUrl("moved"));
    expect(status).toBe(400);
    expect(fetchesOf("moved-here")).toBe(1);
    // The client was accepted: the page goes on to the next check of this bare request.
    expect(html).toContain("response_type must be code");
    expect(html).not.toContain("cannot be used");
  });

  it("platform:cimd — refused documents, each with the reason on the page", async () => {
    const cases: [name: string, reason: string][] = [
      ["other-id", "is not its own URL"],
      ["oversized", "larger than 5120 bytes"],
      ["bad-redirect", "redirect_uris must be https"],
      ["secret", "client_secret_basic is not allowed"],
      ["jwt", "private_key_jwt is not supported"],
      ["html", "application/json"],
      ["to-http", "only https"],
      ["missing", "answered 404"],
    ];
    for (const [name, reason] of cases) {
      const { status, html } = await authorizePage(docUrl(name));
      expect(status, name).toBe(400);
      expect(html, name).toContain("metadata document");
      expect(html, name).toContain(reason);
    }
  });

  it("platform:cimd — a metadata document client is public: /token refuses it with a client secret (401 invalid_client)", async () => {
    const res = await fetch(`${platform.url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: docUrl("app"), client_secret: "guessed", code: "x", code_verifier: "y".repeat(43), redirect_uri: REDIRECT_URI }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
    // Without the secret the same client gets past authentication to the code check.
    const plain = await fetch(`${platform.url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: docUrl("app"), code: "x", code_verifier: "y".repeat(43), redirect_uri: REDIRECT_URI }),
    });
    expect(await plain.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("platform:cimd — /token refuses a refused document's client_id as an unknown client", async () => {
    const res = await fetch(`${platform.url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: docUrl("other-id"), code: "x", code_verifier: "y".repeat(43), redirect_uri: REDIRECT_URI }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });
});
