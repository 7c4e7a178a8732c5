// The route table (workers/smcp/src/routes.ts): exact matches, named segments checked
// as URL names or opaque ids, 405 with the allowed methods, HEAD served by GET.
import { describe, expect, it } from "vitest";
import { matchRoute, type Route } from "../../workers/smcp/src/routes";

const T = "/admin/v1/tenants/:tenant";
const routes: Route<string>[] = [
  { method: "POST", pattern: "/admin/v1/tenants", handler: "create" },
  { method: "GET", pattern: "/admin/v1/tenants", handler: "list" },
  { method: "GET", pattern: T, handler: "get" },
  { method: "DELETE", pattern: T, handler: "delete" },
  { method: "PATCH", pattern: T, handler: "patch" },
  { method: "DELETE", pattern: `${T}/keys/:key`, handler: "revoke" },
  { method: "GET", pattern: `${T}/sessions/:session`, handler: "session" },
  { method: "GET", pattern: `${T}/servers/:server/deployments/:version`, handler: "version" },
];

describe("matchRoute", () => {
  it("routes:names routes:mcp — finds the route and its named segments", () => {
    expect(matchRoute(routes, "GET", "/admin/v1/tenants")).toEqual({ kind: "found", handler: "list", params: {} });
    expect(matchRoute(routes, "POST", "/admin/v1/tenants")).toEqual({ kind: "found", handler: "create", params: {} });
    expect(matchRoute(routes, "GET", "/admin/v1/tenants/acme")).toEqual({ kind: "found", handler: "get", params: { tenant: "acme" } });
    expect(matchRoute(routes, "GET", "/admin/v1/tenants/acme/servers/units/deployments/12")).toEqual({
      kind: "found",
      handler: "version",
      params: { tenant: "acme", server: "units", version: "12" },
    });
  });

  it("routes:names routes:mcp — serves HEAD with the GET route", () => {
    expect(matchRoute(routes, "HEAD", "/admin/v1/tenants/acme")).toEqual({ kind: "found", handler: "get", params: { tenant: "acme" } });
  });

  it("routes:names routes:mcp — ignores empty segments (doubled and trailing slashes)", () => {
    expect(matchRoute(routes, "GET", "//admin/v1//tenants/acme/")).toEqual({ kind: "found", handler: "get", params: { tenant: "acme" } });
  });

  it("routes:names routes:mcp — answers method-not-allowed with every method of the path, once each", () => {
    expect(matchRoute(routes, "PUT", "/admin/v1/tenants/acme")).toEqual({ kind: "method-not-allowed", allow: "GET, DELETE, PATCH" });
    expect(matchRoute(routes, "DELETE", "/admin/v1/tenants")).toEqual({ kind: "method-not-allowed", allow: "POST, GET" });
    const twice: Route<string>[] = [...routes, { method: "GET", pattern: "/admin/v1/:other", handler: "other" }];
    expect(matchRoute(twice, "PUT", "/admin/v1/tenants")).toEqual({ kind: "method-not-allowed", allow: "POST, GET" });
  });

  it("routes:names routes:mcp — is case-sensitive in methods and literal segments", () => {
    expect(matchRoute(routes, "get", "/admin/v1/tenants")).toEqual({ kind: "method-not-allowed", allow: "POST, GET" });
    expect(matchRoute(routes, "GET", "/admin/v1/Tenants")).toEqual({ kind: "none" });
  });

  it("routes:names routes:mcp — matches no route for another length or literal", () => {
    for (const path of ["/", "", "/admin", "/admin/v1", "/admin/v2/tenants", "/admin/v1/tenants/acme/extra/more", "/admin/v1/tenants/acme/keys"]) {
      expect(matchRoute(routes, "GET", path), path).toEqual({ kind: "none" });
    }
  });

  it("routes:names routes:mcp — refuses named segments that are not URL names", () => {
    for (const tenant of ["Acme", "-acme", "a_b", "a.b", "%2e%2e", "..", "a".repeat(64), "%C3%A1cme"]) {
      expect(matchRoute(routes, "GET", `/admin/v1/tenants/${tenant}`), tenant).toEqual({ kind: "none" });
    }
  });

  it("routes:names routes:mcp — takes opaque ids (keys, sessions) as base64url up to 64 characters, nothing else", () => {
    expect(matchRoute(routes, "DELETE", "/admin/v1/tenants/acme/keys/key_AbC-9")).toEqual({
      kind: "found",
      handler: "revoke",
      params: { tenant: "acme", key: "key_AbC-9" },
    });
    const sid = "Ab_-".repeat(8);
    expect(matchRoute(routes, "GET", `/admin/v1/tenants/acme/sessions/${sid}`)).toMatchObject({ kind: "found", params: { session: sid } });
    expect(matchRoute(routes, "GET", `/admin/v1/tenants/acme/sessions/${"a".repeat(64)}`)).toMatchObject({ kind: "found" });
    for (const id of ["a".repeat(65), "a.b", "a+b", "a=", "%20"]) {
      expect(matchRoute(routes, "GET", `/admin/v1/tenants/acme/sessions/${id}`), id).toEqual({ kind: "none" });
      expect(matchRoute(routes, "DELETE", `/admin/v1/tenants/acme/keys/${id}`), id).toEqual({ kind: "none" });
    }
  });

  it("routes:names routes:mcp — an opaque id may be uppercase where a name may not", () => {
    expect(matchRoute(routes, "DELETE", "/admin/v1/tenants/ACME/keys/KEY")).toEqual({ kind: "none" });
    expect(matchRoute(routes, "DELETE", "/admin/v1/tenants/acme/keys/KEY")).toMatchObject({ kind: "found", params: { key: "KEY" } });
  });

  it("routes:names routes:mcp — each table is its own: two tables with the same patterns answer with their own handlers, in their own order", () => {
    const a: Route<string>[] = [{ method: "GET", pattern: "/x/:tenant", handler: "a-named" }, { method: "GET", pattern: "/x/acme", handler: "a-literal" }];
    const b: Route<string>[] = [{ method: "GET", pattern: "/x/acme", handler: "b-literal" }, { method: "GET", pattern: "/x/:tenant", handler: "b-named" }];
    for (let i = 0; i < 2; i++) {
      expect(matchRoute(a, "GET", "/x/acme")).toMatchObject({ handler: "a-named" });
      expect(matchRoute(b, "GET", "/x/acme")).toMatchObject({ handler: "b-literal" });
      expect(matchRoute(b, "GET", "/x/other")).toMatchObject({ handler: "b-named", params: { tenant: "other" } });
    }
  });
});
