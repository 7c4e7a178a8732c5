/**
 * SPEC sections 4 and 7: a tenant's notes are shared by all its sessions and by the
 * stateless lane, and invisible to every other tenant, whatever the lane.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  callTool,
  expectRpcError,
  mcpUrl,
  openSession,
  provisionTenant,
  responseMessage,
  statelessFetch,
  statelessTool,
  type Session,
  type Tenant,
} from "./helpers";

const idsOf = (result: { structuredContent: { notes: { id: string }[] } }) => result.structuredContent.notes.map((n) => n.id).sort();

let a: Tenant;
let b: Tenant;
let a1: Session;
let a2: Session;
let b1: Session;

beforeAll(async () => {
  a = await provisionTenant({ prefix: "a", servers: ["notes"] });
  b = await provisionTenant({ prefix: "b", servers: ["notes"] });
  a1 = await openSession(mcpUrl(a.tenant, "notes"), a.key);
  a2 = await openSession(mcpUrl(a.tenant, "notes"), a.key);
  b1 = await openSession(mcpUrl(b.tenant, "notes"), b.key);
});

describe("notes isolation", () => {
  it("servers:notes — a note added in one session is listed and found in another of the same tenant", async () => {
    const added = await callTool(a1, "add_note", { title: "Quarterly plan", body: "secret-marker-alpha" });
    const id = added.structuredContent.id;

    expect(idsOf(await callTool(a2, "list_notes"))).toContain(id);
    expect(idsOf(await callTool(a2, "search_notes", { query: "SECRET-MARKER-ALPHA" }))).toEqual([id]);
  });

  it("isolation:tenants servers:notes — another tenant's sessions list and find none of them", async () => {
    await callTool(a1, "add_note", { title: "Only for A", body: "secret-marker-beta" });
    await callTool(b1, "add_note", { title: "Only for B", body: "b-marker" });

    const bList = await callTool(b1, "list_notes");
    expect(bList.structuredContent.notes.map((n: { title: string }) => n.title)).toEqual(["Only for B"]);
    expect(idsOf(await callTool(b1, "search_notes", { query: "secret-marker" }))).toEqual([]);
    expect(idsOf(await callTool(a2, "search_notes", { query: "b-marker" }))).toEqual([]);
  });

  it("isolation:tenants servers:notes — a tenant cannot delete another tenant's note by id", async () => {
    const added = await callTool(a1, "add_note", { title: "Keep me", body: "" });
    const id = added.structuredContent.id;
    const attempt = await callTool(b1, "delete_note", { id });
    expect(attempt.isError).toBe(true);
    expect(idsOf(await callTool(a2, "list_notes"))).toContain(id);
  });

  it("isolation:tenants stateless:requests — 2026-07-28 requests see the tenant's notes and only them", async () => {
    const fromSession = (await callTool(a1, "add_note", { title: "From a session", body: "marker-gamma" })).structuredContent.id;
    const fromStateless = (await statelessTool(mcpUrl(a.tenant, "notes"), a.key, "add_note", { title: "Stateless", body: "marker-delta" }))
      .structuredContent.id;

    // Tenant A, stateless: sees the session's note; A's sessions see the stateless one.
    expect(idsOf(await statelessTool(mcpUrl(a.tenant, "notes"), a.key, "list_notes"))).toEqual(
      expect.arrayContaining([fromSession, fromStateless]),
    );
    expect(idsOf(await callTool(a2, "search_notes", { query: "marker-delta" }))).toEqual([fromStateless]);

    // Tenant B, stateless: neither.
    const bIds = idsOf(await statelessTool(mcpUrl(b.tenant, "notes"), b.key, "list_notes"));
    expect(bIds).not.toContain(fromSession);
    expect(bIds).not.toContain(fromStateless);
    for (const query of ["marker-gamma", "marker-delta"]) {
      expect(idsOf(await statelessTool(mcpUrl(b.tenant, "notes"), b.key, "search_notes", { query }))).toEqual([]);
    }
  });

  it("isolation:tenants stateless:requests — tenant B's key on tenant A's URL is refused on the stateless lane", async () => {
    await expectRpcError(await statelessFetch(mcpUrl(a.tenant, "notes"), b.key, "tools/call", { name: "list_notes", arguments: {} }), 401);
  });

  it("isolation:tenants stateless:requests — server/discover works on the stateless lane, no session minted", async () => {
    const res = await statelessFetch(mcpUrl(a.tenant, "notes"), a.key, "server/discover");
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    const message = await responseMessage(res);
    expect(message.result.supportedVersions).toContain("2026-07-28");
  });

  it("isolation:tenants admin:sessions — a tenant's admin URLs never reach another tenant's session", async () => {
    for (const path of [`/sessions/${a1.sessionId}`, `/sessions/${a1.sessionId}/events`]) {
      const res = await admin("GET", `/tenants/${b.tenant}${path}`);
      expect(res.status, path).toBe(404);
      await res.body?.cancel();
    }
    const terminate = await admin("DELETE", `/tenants/${b.tenant}/sessions/${a1.sessionId}`);
    expect(terminate.status).toBe(404);
    await terminate.body?.cancel();
    await callTool(a1, "list_notes"); // untouched
  });
});
