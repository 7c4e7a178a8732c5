/**
 * SPEC section 3: an unknown, malformed, deleted, or other principal's session id gets
 * 404 and creates no storage anywhere. A session is bound to {tenant, server, key id}.
 *
 * "No storage" means: read from inside the Durable Object the id addresses, it holds
 * no key, no table and no alarm. (Locally workerd creates an empty SQLite file for any
 * object it instantiates, even one that never touches storage, so the file list of
 * `listDurableObjectIds` only proves that an object was never addressed at all; that
 * is what the malformed-id test checks.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  EMPTY_STORAGE,
  callTool,
  eventRows,
  expectRpcError,
  listSessions,
  mcpFetch,
  mcpUrl,
  newKey,
  openSession,
  openStream,
  provisionTenant,
  rpc,
  sessionObjectId,
  sessionStorageExists,
  sessionStub,
  storageOf,
  type Session,
  type Tenant,
} from "./helpers";

const NO_SESSION = /^[A-Za-z0-9_-]{32}$/;

let a: Tenant;
let b: Tenant;
let session: Session;

beforeAll(async () => {
  a = await provisionTenant({ prefix: "a" });
  b = await provisionTenant({ prefix: "b" });
  session = await openSession(mcpUrl(a.tenant, "notes"), a.key);
  await callTool(session, "list_notes");
});

/** Every way a client can present a session id: POST, GET (plain and resuming), DELETE. */
async function expectSessionNotFound(url: string, key: string | null, sessionId: string): Promise<void> {
  const attempts = [
    mcpFetch(url, { key, sessionId, body: rpc("tools/call", { name: "list_notes", arguments: {} }) }),
    mcpFetch(url, { key, sessionId, method: "GET" }),
    mcpFetch(url, { key, sessionId, method: "GET", headers: { "Last-Event-ID": "_GET_stream.1" } }),
    mcpFetch(url, { key, sessionId, method: "DELETE" }),
  ];
  for (const res of await Promise.all(attempts)) {
    await expectRpcError(res, 404, -32001);
    expect(res.headers.get("mcp-session-id")).toBeNull();
  }
}

async function expectNoStorage(tenant: string, server: string, sessionId: string): Promise<void> {
  expect(await storageOf(sessionStub(tenant, server, sessionId))).toEqual(EMPTY_STORAGE);
  const indexed = (await listSessions(tenant)).filter((s) => s.id === sessionId && s.server === server);
  expect(indexed).toEqual([]);
}

describe("404 for sessions that are not yours, with no storage", () => {
  it("session:404 — a well-formed id no one was given gets 404 and no Durable Object storage", async () => {
    const unknown = "x".repeat(16) + "Y".repeat(16);
    expect(unknown).toMatch(NO_SESSION);
    await expectSessionNotFound(mcpUrl(a.tenant, "notes"), a.key, unknown);
    await expectNoStorage(a.tenant, "notes", unknown);
  });

  it("session:404 — an id of the wrong shape gets 404 and no Durable Object is ever instantiated for it", async () => {
    for (const bad of ["short", `${session.sessionId}x`, `${session.sessionId.slice(0, 31)}!`, "../../etc/passwd", "a b"]) {
      await expectSessionNotFound(mcpUrl(a.tenant, "notes"), a.key, bad);
      expect(await sessionStorageExists(sessionObjectId(a.tenant, "notes", bad))).toBe(false);
    }
  });

  it("session:404 isolation:tenants — a real session id used with another tenant's key and URL gets 404, no storage", async () => {
    await expectSessionNotFound(mcpUrl(b.tenant, "notes"), b.key, session.sessionId);
    await expectNoStorage(b.tenant, "notes", session.sessionId);
    // With the other tenant's key on this tenant's URL the key itself is refused.
    const res = await mcpFetch(mcpUrl(a.tenant, "notes"), { key: b.key, sessionId: session.sessionId, body: rpc("ping") });
    await expectRpcError(res, 401);
  });

  it("session:404 — a real session id used with another server of the same tenant gets 404, no storage", async () => {
    await expectSessionNotFound(mcpUrl(a.tenant, "everything"), a.key, session.sessionId);
    await expectNoStorage(a.tenant, "everything", session.sessionId);
  });

  it("session:404 auth:principal — a real session id used with another key of the same tenant gets 404 and changes nothing", async () => {
    const stub = sessionStub(a.tenant, "notes", session.sessionId);
    const before = { storage: await storageOf(stub), events: await eventRows(stub) };
    const other = await newKey(a.tenant);

    await expectSessionNotFound(mcpUrl(a.tenant, "notes"), other.key, session.sessionId);

    expect({ storage: await storageOf(stub), events: await eventRows(stub) }).toEqual(before);
    await callTool(session, "list_notes"); // the owner's session is untouched
  });

  it("session:404 — an id whose session was deleted gets 404 and leaves the emptied object empty", async () => {
    const doomed = await openSession(mcpUrl(a.tenant, "notes"), a.key);
    const ended = await mcpFetch(doomed.url, { key: a.key, sessionId: doomed.sessionId, method: "DELETE" });
    expect(ended.status).toBe(200);
    await expectSessionNotFound(doomed.url, a.key, doomed.sessionId);
    expect(await storageOf(sessionStub(a.tenant, "notes", doomed.sessionId))).toEqual(EMPTY_STORAGE);
  });

  it("session:ttl platform:session-end — initialize-shaped requests cannot bind a presented id to a new session", async () => {
    const unknown = "Z".repeat(32);
    const res = await mcpFetch(mcpUrl(a.tenant, "notes"), {
      key: a.key,
      sessionId: unknown,
      body: rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } }),
    });
    expect(res.status).toBe(404);
    await res.body?.cancel();
    await expectNoStorage(a.tenant, "notes", unknown);
    const stream = await openStream(session);
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
  });
});
