/**
 * Names derived from a tenant (packages/runtime/src/names.ts): the incarnation makes
 * a re-created tenant's names differ from the old one's, tenants created before
 * incarnations keep the names they always had, and no two tenant/incarnation pairs
 * spell the same name.
 */
import { describe, expect, it } from "vitest";
import { LEGACY_INCARNATION, isValidSegment, listenBusObjectName, newIncarnation, sessionObjectName, tenantIncarnationName } from "../../packages/runtime/src/names";

describe("tenant incarnations", () => {
  it("platform:incarnation — each create mints a new, URL-safe incarnation of 96 bits", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newIncarnation()));
    expect(seen.size).toBe(1000);
    for (const i of seen) expect(i).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(seen.has(LEGACY_INCARNATION)).toBe(false);
  });

  it("platform:incarnation — the same session id under another incarnation names another object; legacy names are unchanged", () => {
    const a = newIncarnation();
    const b = newIncarnation();
    expect(sessionObjectName("acme", a, "notes", "S".repeat(32))).not.toBe(sessionObjectName("acme", b, "notes", "S".repeat(32)));
    expect(sessionObjectName("acme", LEGACY_INCARNATION, "notes", "S".repeat(32))).toBe(`session:acme/notes/${"S".repeat(32)}`);
    expect(sessionObjectName("acme", a, "notes", "S".repeat(32))).toBe(`session:acme~${a}/notes/${"S".repeat(32)}`);
  });

  it("platform:incarnation stateless:listen-scoped — a server's listen bus under another incarnation is another object; legacy tenants keep the plain name", () => {
    const a = newIncarnation();
    const b = newIncarnation();
    expect(listenBusObjectName("acme", a, "notes")).toBe(`listen:acme~${a}/notes`);
    expect(listenBusObjectName("acme", a, "notes")).not.toBe(listenBusObjectName("acme", b, "notes"));
    expect(listenBusObjectName("acme", LEGACY_INCARNATION, "notes")).toBe("listen:acme/notes");
  });

  it("platform:incarnation — no tenant id can spell another tenant's incarnation name", () => {
    const i = newIncarnation();
    const name = tenantIncarnationName("acme", i);
    // `~` is in no tenant id, so the only tenant whose legacy name could equal it does not exist.
    expect(isValidSegment(name)).toBe(false);
    expect(tenantIncarnationName("acme", LEGACY_INCARNATION)).toBe("acme");
  });
});
