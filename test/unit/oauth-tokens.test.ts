// Token formats and PKCE (workers/smcp/src/oauth/tokens.ts).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isCodeVerifier, isS256Challenge, isTenantKey, mintSecret, s256, tenantOf, type SecretKind } from "../../workers/smcp/src/oauth/tokens";

const SECRET = "A".repeat(43);

describe("mintSecret", () => {
  it("platform:oauth — mints `{prefix}{tenant}.{43 base64url}` with its SHA-256 digest, fresh every time", async () => {
    const prefixes: Record<SecretKind, string> = { code: "smcp_ac_", access: "smcp_at_", refresh: "smcp_rt_" };
    for (const [kind, prefix] of Object.entries(prefixes) as [SecretKind, string][]) {
      const a = await mintSecret(kind, "acme");
      const b = await mintSecret(kind, "acme");
      expect(a.value).toMatch(new RegExp(`^${prefix}acme\\.[A-Za-z0-9_-]{43}$`));
      expect(a.hash).toBe(createHash("sha256").update(a.value).digest("hex"));
      expect(a.value).not.toBe(b.value);
      expect(tenantOf(kind, a.value)).toBe("acme");
    }
  });
});

describe("tenantOf", () => {
  it("platform:oauth — reads the tenant of a token of the given kind", () => {
    expect(tenantOf("access", `smcp_at_acme.${SECRET}`)).toBe("acme");
    expect(tenantOf("refresh", `smcp_rt_a-1.${SECRET}`)).toBe("a-1");
    expect(tenantOf("code", `smcp_ac_x.${"-_".repeat(21)}a`)).toBe("x");
  });

  it("platform:oauth — is null for another kind's prefix", () => {
    expect(tenantOf("refresh", `smcp_at_acme.${SECRET}`)).toBeNull();
    expect(tenantOf("access", `smcp_rt_acme.${SECRET}`)).toBeNull();
    expect(tenantOf("access", `smcp_sk_acme.${SECRET}`)).toBeNull();
  });

  it("platform:oauth — is null for malformed tenants or secrets", () => {
    for (const value of [
      null,
      undefined,
      "",
      "smcp_at_",
      `smcp_at_.${SECRET}`,
      "smcp_at_acme",
      "smcp_at_acme.",
      `smcp_at_Acme.${SECRET}`,
      `smcp_at_-acme.${SECRET}`,
      `smcp_at_${"a".repeat(64)}.${SECRET}`,
      `smcp_at_acme.${"A".repeat(42)}`,
      `smcp_at_acme.${"A".repeat(44)}`,
      `smcp_at_acme.${"A".repeat(42)}=`,
      `smcp_at_acme.${"A".repeat(42)}+`,
      `smcp_at_acme.x.${SECRET}`,
      `SMCP_AT_acme.${SECRET}`,
      ` smcp_at_acme.${SECRET}`,
    ]) {
      expect(tenantOf("access", value), String(value)).toBeNull();
    }
  });
});

describe("isTenantKey", () => {
  it("platform:oauth — is the smcp_sk_ prefix", () => {
    expect(isTenantKey("smcp_sk_anything")).toBe(true);
    expect(isTenantKey("smcp_at_acme.x")).toBe(false);
    expect(isTenantKey("SMCP_SK_x")).toBe(false);
    expect(isTenantKey("")).toBe(false);
  });
});

describe("PKCE", () => {
  it("platform:oauth — computes the RFC 7636 appendix B example", async () => {
    expect(await s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("platform:oauth — challenges are 43 base64url characters", () => {
    expect(isS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).toBe(true);
    for (const c of [null, "", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMx", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"]) {
      expect(isS256Challenge(c), String(c)).toBe(false);
    }
  });

  it("platform:oauth — verifiers are 43 to 128 unreserved characters", () => {
    expect(isCodeVerifier("a".repeat(43))).toBe(true);
    expect(isCodeVerifier("a".repeat(128))).toBe(true);
    expect(isCodeVerifier("aA0-._~".repeat(7))).toBe(true);
    for (const v of [null, "", "a".repeat(42), "a".repeat(129), "a".repeat(42) + "+", "a".repeat(42) + "/", "a".repeat(42) + " ", "a".repeat(42) + "é"]) {
      expect(isCodeVerifier(v), String(v)).toBe(false);
    }
  });
});
