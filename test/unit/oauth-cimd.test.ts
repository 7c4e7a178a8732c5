// The pure rules of Client ID Metadata Documents: the client_id URL, the guarded
// fetch's host rules, the document's content, and the cache lifetime Cache-Control gives.
import { describe, expect, it } from "vitest";
import {
  CACHE_CEILING_MS,
  CACHE_DEFAULT_MS,
  CACHE_FLOOR_MS,
  MAX_DOCUMENT_BYTES,
  cacheLifetimeMs,
  checkClientIdUrl,
  clientFromDocument,
  isMetadataClientId,
} from "../../workers/smcp/src/oauth/client-metadata-document";
import { outboundTarget } from "../../workers/smcp/src/oauth/guarded-fetch";

const ID = "https://client.example.com/oauth/client.json";
const bytes = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const doc = (overrides: Record<string, unknown> = {}) =>
  bytes({ client_id: ID, client_name: "Example", redirect_uris: ["http://127.0.0.1:4000/cb"], token_endpoint_auth_method: "none", ...overrides });

describe("client_id URLs", () => {
  it("platform:cimd — an https URL with a path, canonical, without fragment or user info, is a metadata client_id", () => {
    expect(checkClientIdUrl(ID)).toMatchObject({ ok: true });
    expect(checkClientIdUrl("https://client.example.com/c?v=1")).toMatchObject({ ok: true });
    expect(isMetadataClientId(ID)).toBe(true);
    expect(isMetadataClientId("mcpc_abcdefghijklmnopqrstuvwx")).toBe(false);
    expect(isMetadataClientId(null)).toBe(false);
    for (const [value, reason] of [
      ["http://client.example.com/c.json", "https"],
      ["https://client.example.com", "path"],
      ["https://client.example.com/", "path"],
      ["https://client.example.com/c.json#f", "fragment"],
      ["https://a:b@client.example.com/c.json", "user name"],
      ["https://client.example.com/x/./c.json", "canonical"],
      ["https://client.example.com/x/%2e%2e/c.json", "canonical"],
      ["https://client.example.com:443/c.json", "canonical"],
      ["https://Client.Example.com/c.json", "canonical"],
      ["https://", "not a valid URL"],
      [`https://client.example.com/${"x".repeat(1000)}`, "longer"],
    ] as const) {
      const check = checkClientIdUrl(value);
      expect(check.ok, value).toBe(false);
      if (!check.ok) expect(check.reason, value).toContain(reason);
    }
  });

  it("platform:cimd egress:loopback — the guarded fetch reaches public host names only; loopback only with the flag", () => {
    const off = { allowLoopback: false };
    const on = { allowLoopback: true };
    const verdict = (url: string, policy = off) => outboundTarget(new URL(url), policy);
    expect(verdict("https://client.example.com/c.json")).toEqual({ ok: true });
    expect(verdict("https://user.github.io/c.json")).toEqual({ ok: true });
    for (const url of ["http://client.example.com/c.json", "ftp://client.example.com/c.json"]) expect(verdict(url).ok, url).toBe(false);
    // 0xcb.0.113.1 and 3405803777 are 203.0.113.1 once parsed.
    for (const url of ["https://203.0.113.1/c", "https://0xcb.0.113.1/c", "https://3405803777/c", "https://[2001:db8::1]/c", "https://10.0.0.1/c", "https://169.254.169.254/c"]) {
      expect(verdict(url, on), url).toMatchObject({ ok: false, reason: expect.stringContaining("IP address") });
    }
    for (const url of ["https://localhost/c", "https://a.localhost/c", "https://127.0.0.1/c", "https://[::1]/c", "https://0x7f.1/c"]) {
      expect(verdict(url, off), url).toMatchObject({ ok: false, reason: expect.stringContaining("SMCP_ALLOW_LOOPBACK_EGRESS") });
      expect(verdict(url, on), url).toEqual({ ok: true });
    }
    for (const url of ["https://db.internal/c", "https://printer.local/c", "https://intranet/c", "https://com/c", "https://github.io/c"]) {
      expect(verdict(url), url).toMatchObject({ ok: false, reason: expect.stringContaining("not a public domain name") });
    }
  });
});

describe("metadata documents", () => {
  it("platform:cimd — an acceptable document becomes a public client with its redirect URIs and name", () => {
    const result = clientFromDocument(ID, doc({ grant_types: ["authorization_code", "refresh_token"], extra: "ignored" }));
    expect(result).toEqual({
      ok: true,
      client: expect.objectContaining({
        client_id: ID,
        client_name: "Example",
        redirect_uris: ["http://127.0.0.1:4000/cb"],
        grant_types: ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: "none",
      }),
    });
    if (result.ok) expect(result.client.secret_hash).toBeUndefined();
    // Absent method and grant types: a public client with the code grant only (RFC 7591 default).
    const bare = clientFromDocument(ID, bytes({ client_id: ID, redirect_uris: ["https://app.example.com/cb"] }));
    expect(bare).toMatchObject({ ok: true, client: { grant_types: ["authorization_code"], token_endpoint_auth_method: "none" } });
  });

  it("platform:cimd — refused documents say why", () => {
    const cases: [Uint8Array, string][] = [
      [new TextEncoder().encode("<html>"), "not JSON"],
      [new Uint8Array([0xff, 0xfe, 0x7b]), "not JSON"],
      [bytes([1, 2]), "invalid"],
      [doc({ client_id: "https://client.example.com/oauth/client.json/" }), "not its own URL"],
      [doc({ client_id: "https://CLIENT.example.com/oauth/client.json" }), "not its own URL"],
      [doc({ redirect_uris: [] }), "redirect_uris"],
      [doc({ redirect_uris: ["http://attacker.example.com/cb"] }), "redirect_uris must be https"],
      [doc({ redirect_uris: ["javascript:alert(1)"] }), "redirect_uris must be https"],
      [doc({ redirect_uris: ["https://app.example.com/cb#x"] }), "redirect_uris must be https"],
      [doc({ token_endpoint_auth_method: "private_key_jwt" }), "private_key_jwt is not supported"],
      [doc({ token_endpoint_auth_method: "client_secret_basic" }), "is not allowed"],
      [doc({ client_secret: "s3cret" }), "client secret"],
      [doc({ grant_types: ["client_credentials"] }), "grant_types"],
      [doc({ response_types: ["token"] }), "response_types"],
      [doc({ client_name: "x".repeat(201) }), "client_name"],
    ];
    for (const [body, reason] of cases) {
      const result = clientFromDocument(ID, body);
      expect(result.ok, reason).toBe(false);
      if (!result.ok) expect(result.reason).toContain(reason);
    }
    expect(MAX_DOCUMENT_BYTES).toBe(5120);
  });
});

describe("cache lifetime", () => {
  it("platform:cimd — Cache-Control decides: no-store, no-cache, private and max-age=0 are not stored; max-age is clamped to the floor and ceiling", () => {
    expect(cacheLifetimeMs(null)).toBe(CACHE_DEFAULT_MS);
    expect(cacheLifetimeMs("public")).toBe(CACHE_DEFAULT_MS);
    expect(cacheLifetimeMs("no-store")).toBe(0);
    expect(cacheLifetimeMs("max-age=600, no-store")).toBe(0);
    expect(cacheLifetimeMs("No-Cache")).toBe(0);
    expect(cacheLifetimeMs("private, max-age=600")).toBe(0);
    expect(cacheLifetimeMs("max-age=0")).toBe(0);
    expect(cacheLifetimeMs("max-age=600")).toBe(600_000);
    expect(cacheLifetimeMs('max-age="600"')).toBe(600_000);
    expect(cacheLifetimeMs("public, max-age=5")).toBe(CACHE_FLOOR_MS);
    expect(cacheLifetimeMs("max-age=99999999999")).toBe(CACHE_CEILING_MS);
    expect(cacheLifetimeMs("max-age=600, s-maxage=120")).toBe(120_000);
    expect(cacheLifetimeMs("max-age=-1")).toBe(0);
    expect(cacheLifetimeMs("max-age=abc")).toBe(0);
    expect(CACHE_FLOOR_MS).toBe(60_000);
    expect(CACHE_CEILING_MS).toBe(86_400_000);
  });
});
