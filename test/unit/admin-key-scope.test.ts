// Unit tier: what a tenant admin key may call (admin/tenant-scope.ts) and the key's format (admin/admin-key-format.ts).
import { describe, expect, it } from "vitest";
import { mintAdminKey, tenantOfAdminKey } from "../../workers/smcp/src/admin/admin-key-format";
import type { AdminCaller } from "../../workers/smcp/src/admin/require-admin";
import { scopeRefusal } from "../../workers/smcp/src/admin/tenant-scope";

const key: AdminCaller = { kind: "admin-key", tenant: "acme", keyId: "ak_x", incarnation: "i" };
const refusal = (method: string, path: string) => {
  const error = scopeRefusal(key, method, path);
  return error && { status: error.status, code: error.code, message: error.message };
};

describe("tenant admin key scope", () => {
  it("auth:tenant-admin-keys — everything under its own tenant is allowed, routes added later (secrets) included", () => {
    for (const [method, path] of [
      ["GET", "/admin/v1/tenants/acme"],
      ["GET", "/admin/v1/tenants/acme/keys"],
      ["PUT", "/admin/v1/tenants/acme/servers/notes"],
      ["PUT", "/admin/v1/tenants/acme/servers/units/deployments"],
      ["PUT", "/admin/v1/tenants/acme/servers/units/secrets/API_TOKEN"],
      ["DELETE", "/admin/v1/tenants/acme/sessions/abc"],
      ["POST", "/admin/v1/tenants/acme/admin-keys"],
      ["GET", "/admin/v1/tenants/acme/audit/export"],
    ]) {
      expect(refusal(method!, path!), `${method} ${path}`).toBeNull();
    }
  });

  it("auth:tenant-admin-keys isolation:tenants — other tenants and platform routes are refused from the path alone", () => {
    const other = { status: 403, code: "forbidden", message: "This admin key manages tenant acme only" };
    for (const path of ["/admin/v1/tenants/globex", "/admin/v1/tenants/globex/keys", "/admin/v1/tenants/acme-2/servers", "/admin/v1/tenants/ACME/keys", "/admin/v1/tenants/acme%2Fx/keys"]) {
      expect(refusal("GET", path), path).toEqual(other);
    }
    const platform = (what: string) => ({
      status: 403,
      code: "forbidden",
      message: `${what} needs the platform admin token (SMCP_ADMIN_TOKEN); a tenant admin key manages only its own tenant (acme)`,
    });
    expect(refusal("GET", "/admin/v1/tenants")).toEqual(platform("GET /admin/v1/tenants"));
    expect(refusal("POST", "/admin/v1/tenants")).toEqual(platform("POST /admin/v1/tenants"));
    expect(refusal("GET", "/admin/v1/health")).toEqual(platform("GET /admin/v1/health"));
    expect(refusal("PATCH", "/admin/v1/tenants/acme")).toEqual(platform("Changing a tenant's limits"));
    expect(refusal("DELETE", "/admin/v1/tenants/acme")).toEqual(platform("Deleting a tenant"));
    expect(refusal("DELETE", "/admin/v1/tenants/acme/audit")).toEqual(platform("Dropping audit entries"));
    expect(scopeRefusal({ kind: "platform" }, "DELETE", "/admin/v1/tenants/acme")).toBeNull();
  });

  it("auth:tenant-admin-keys — the key names its tenant; anything else with the prefix is not a key", async () => {
    const minted = await mintAdminKey("acme");
    expect(minted.value).toMatch(/^smcp_ak_acme\.[A-Za-z0-9_-]{43}$/);
    expect(minted.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tenantOfAdminKey(minted.value)).toBe("acme");
    const secret = minted.value.split(".")[1]!;
    for (const bad of [`smcp_ak_.${secret}`, `smcp_ak_Acme.${secret}`, `smcp_ak_acme.${secret}x`, `smcp_ak_acme${secret}`, `smcp_sk_${secret}`, `smcp_ak_acme.${secret.slice(1)}!`]) {
      expect(tenantOfAdminKey(bad), bad).toBeNull();
    }
  });
});
