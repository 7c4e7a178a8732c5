// RFC 8707 resource indicators (workers/smcp/src/oauth/resource.ts): which strings name
// one of this origin's MCP URLs, and their canonical spelling.
import { describe, expect, it } from "vitest";
import { MCP_SCOPE, issuerOf, mcpResourceUrl, parseMcpResource, resourceMetadataUrl } from "../../workers/smcp/src/oauth/resource";

const ORIGIN = "https://smcp.example";

describe("parseMcpResource", () => {
  it("platform:oauth — reads tenant and server of this origin's MCP URLs", () => {
    expect(parseMcpResource(`${ORIGIN}/mcp/acme/notes`, ORIGIN)).toEqual({ tenant: "acme", server: "notes", url: `${ORIGIN}/mcp/acme/notes` });
  });

  it("platform:oauth — canonicalises what URL parsing normalises (scheme and host case, default port)", () => {
    expect(parseMcpResource("HTTPS://SMCP.EXAMPLE:443/mcp/acme/notes", ORIGIN)).toEqual({ tenant: "acme", server: "notes", url: `${ORIGIN}/mcp/acme/notes` });
  });

  it("platform:oauth — refuses other origins", () => {
    for (const value of [
      "http://smcp.example/mcp/acme/notes",
      "https://smcp.example:8443/mcp/acme/notes",
      "https://evil.example/mcp/acme/notes",
      "https://smcp.example.evil.example/mcp/acme/notes",
    ]) {
      expect(parseMcpResource(value, ORIGIN), value).toBeNull();
    }
  });

  it("platform:oauth — refuses query, fragment, user info, even empty ones", () => {
    for (const value of [
      `${ORIGIN}/mcp/acme/notes?x=1`,
      `${ORIGIN}/mcp/acme/notes?`,
      `${ORIGIN}/mcp/acme/notes#frag`,
      `${ORIGIN}/mcp/acme/notes#`,
      "https://user@smcp.example/mcp/acme/notes",
      "https://user:pw@smcp.example/mcp/acme/notes",
    ]) {
      expect(parseMcpResource(value, ORIGIN), value).toBeNull();
    }
  });

  it("platform:oauth — refuses other paths and names that are not URL names", () => {
    for (const path of ["/mcp/acme", "/mcp/acme/notes/", "/mcp/acme/notes/x", "/mcp//notes", "/mcp/Acme/notes", "/mcp/acme/no_tes", "/MCP/acme/notes", "/mcp/%61cme/notes", "/mcp/a%2Fb/notes", "/x/mcp/acme/notes"]) {
      expect(parseMcpResource(`${ORIGIN}${path}`, ORIGIN), path).toBeNull();
    }
  });

  it("platform:oauth — refuses what is not a URL at all", () => {
    for (const value of [null, undefined, "", "mcp/acme/notes", "/mcp/acme/notes", "acme", "https://"]) {
      expect(parseMcpResource(value, ORIGIN), String(value)).toBeNull();
    }
  });

  it("platform:oauth — treats dot segments as the path URL parsing resolves", () => {
    expect(parseMcpResource(`${ORIGIN}/mcp/other/../acme/notes`, ORIGIN)).toEqual({ tenant: "acme", server: "notes", url: `${ORIGIN}/mcp/acme/notes` });
  });
});

describe("resource URLs", () => {
  it("platform:oauth — are spelled one way", () => {
    expect(mcpResourceUrl(ORIGIN, "acme", "notes")).toBe("https://smcp.example/mcp/acme/notes");
    expect(resourceMetadataUrl(ORIGIN, "acme", "notes")).toBe("https://smcp.example/.well-known/oauth-protected-resource/mcp/acme/notes");
    expect(issuerOf(new Request("https://smcp.example:8443/token?x=1"))).toBe("https://smcp.example:8443");
    expect(MCP_SCOPE).toBe("mcp");
  });
});
