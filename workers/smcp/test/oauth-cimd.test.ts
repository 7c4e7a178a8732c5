/**
 * Client ID Metadata Documents in workerd: what the Worker decides before and around
 * the fetch. workerd has no HTTPS server to fetch from, so a document's content and
 * caching are proven end to end (test/e2e/oauth-cimd.test.ts) and the pure rules in
 * the unit tier (test/unit/oauth-cimd.test.ts). Here: the URL refusals on the page and
 * at /token, the fetch limits per address and per host (fetches of a public name that
 * cannot be reached here still count), the metadata, and that none of it writes KV.
 * This config runs without SMCP_ALLOW_LOOPBACK_EGRESS.
 */
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN } from "./helpers";
import { OAUTH_LIMITS, REDIRECT_URI, getPage, oauthError, randomAddress, tokenRequest } from "./oauth-helpers";

async function kvKeys(): Promise<string[]> {
  return (await env.OAUTH_KV.list()).keys.map((k) => k.name).sort();
}

function pageFor(clientId: string, from = randomAddress()): Promise<Response> {
  const url = new URL(`${ORIGIN}/authorize`);
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  return getPage(url.href, from);
}

const decode = (html: string) => html.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

describe("Client ID Metadata Documents", () => {
  it("platform:cimd platform:oauth — the authorization server metadata advertises metadata documents and keeps registration", async () => {
    const doc = await (await SELF.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).json<Record<string, unknown>>();
    expect(doc.client_id_metadata_document_supported).toBe(true);
    expect(doc.registration_endpoint).toBe(`${ORIGIN}/register`);
  });

  it("platform:cimd egress:loopback — URL client_ids the platform will not fetch are refused on the page with the reason, and nothing is stored", async () => {
    const before = await kvKeys();
    const cases: [clientId: string, reason: string][] = [
      ["http://client.example.com/cimd.json", "must be an https URL"],
      ["https://client.example.com/", "must have a path"],
      ["https://client.example.com/cimd.json#x", "must not have a fragment"],
      ["https://user:pw@client.example.com/cimd.json", "must not carry a user name or password"],
      ["https://client.example.com/a/../cimd.json", "canonical form"],
      ["https://CLIENT.example.com/cimd.json", "canonical form"],
      ["https://203.0.113.7/cimd.json", "is an IP address"],
      ["https://[2001:db8::1]/cimd.json", "is an IP address"],
      ["https://2130706433/cimd.json", "canonical form"],
      ["https://127.0.0.1/cimd.json", "SMCP_ALLOW_LOOPBACK_EGRESS"],
      ["https://localhost:8443/cimd.json", "SMCP_ALLOW_LOOPBACK_EGRESS"],
      ["https://app.localhost/cimd.json", "SMCP_ALLOW_LOOPBACK_EGRESS"],
      ["https://db.internal/cimd.json", "not a public domain name"],
      ["https://printer.local/cimd.json", "not a public domain name"],
      [`https://client.example.com/${"a".repeat(1000)}`, "longer than 1000 characters"],
    ];
    for (const [clientId, reason] of cases) {
      const res = await pageFor(clientId);
      const html = decode(await res.text());
      expect(res.status, clientId).toBe(400);
      expect(html, clientId).toContain("metadata document");
      expect(html, clientId).toContain(reason);
    }
    expect(await kvKeys()).toEqual(before);
  });

  it("platform:cimd — at /token a URL client_id that cannot be used is an unknown client (401 invalid_client)", async () => {
    for (const clientId of ["http://client.example.com/cimd.json", "https://localhost/cimd.json", "https://203.0.113.7/cimd.json"]) {
      const res = await tokenRequest({ grant_type: "authorization_code", client_id: clientId, code: "x", code_verifier: "v".repeat(43), redirect_uri: REDIRECT_URI });
      await oauthError(res, 401, "invalid_client");
    }
  });

  it("platform:cimd platform:oauth-abuse — document fetches are limited per address: the next one is 429 without a fetch, and nothing is stored", async () => {
    const before = await kvKeys();
    const from = randomAddress();
    // A public name that passes the URL rules, so each attempt is admitted and counted; the
    // fetch then fails at once: example.com is reserved (RFC 2606), so no DNS lookup is made.
    for (let i = 0; i < OAUTH_LIMITS.metadataFetchesPerAddress; i++) {
      const res = await pageFor(`https://cimd-${i}.address-limit.example.com/client.json`, from);
      const html = decode(await res.text());
      expect(res.status, html).toBe(400);
      expect(html).toContain(`could not be fetched: cimd-${i}.address-limit.example.com is a reserved name (RFC 2606) that no server answers for`);
    }
    const over = await pageFor("https://cimd-next.address-limit.example.com/client.json", from);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(decode(await over.text())).toContain("Too many client metadata document fetches from this address");
    // A refusal by the URL rules costs no fetch and is not limited by them.
    expect((await pageFor("http://client.example.com/cimd.json", from)).status).toBe(400);
    expect(await kvKeys()).toEqual(before);
  });

  it("platform:cimd platform:oauth-abuse — fetches of one host are limited across addresses, so SMCP cannot be aimed at one site", async () => {
    for (let i = 0; i < OAUTH_LIMITS.metadataFetchesPerHost; i++) {
      const res = await pageFor(`https://victim.example.com/client-${i}.json`);
      expect(res.status).toBe(400);
    }
    const over = await pageFor("https://victim.example.com/client-next.json");
    expect(over.status).toBe(429);
    expect(decode(await over.text())).toContain("Too many client metadata document fetches from victim.example.com");
    // Another host is not affected.
    expect((await pageFor("https://other.example.com/client.json")).status).toBe(400);
  });
});
