/**
 * One numbered migration list per Durable Object class (storage/migrations.ts): objects
 * created with the oldest schema that ever shipped (e28d9c2, kept as SQL fixtures)
 * upgrade in their constructor and then work; a current object runs no DDL when it is
 * constructed or used; an object that was only looked up stays without storage.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { describe, expect, it } from "vitest";
import { DirectoryDO, DIRECTORY_MIGRATIONS } from "../src/directory-do";
import { SessionDO } from "../src/session-do";
import { SESSION_MIGRATIONS } from "../src/session-schema";
import { createSchema, migrate } from "../src/storage/migrations";
import { TenantDO } from "../src/tenant-do";
import { TENANT_MIGRATIONS } from "../src/tenant-schema";
import tenantFixture from "./fixtures/tenant-e28d9c2.sql?raw";
import sessionFixture from "./fixtures/session-e28d9c2.sql?raw";
import directoryFixture from "./fixtures/directory-e28d9c2.sql?raw";
import { EMPTY_STORAGE, admin, mcpUrl, openSession, provisionTenant, sessionStub, storageOf, tenantObject, uniqueName } from "./helpers";

const FIXTURE_KEY = "smcp_sk_fixture-key-of-the-first-schema-000";

/** Every table, index and trigger with its columns, comparable across objects. */
function schemaOf(sql: SqlStorage) {
  const objects = sql
    .exec<{ type: string; name: string; tbl_name: string }>("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .toArray()
    .map((o) => ({ ...o }));
  const columns = objects
    .filter((o) => o.type === "table")
    .map((t) => [t.name, sql.exec<{ name: string }>("SELECT name FROM pragma_table_info(?) ORDER BY name", t.name).toArray().map((c) => c.name)]);
  return { objects, columns: Object.fromEntries(columns) };
}

const versionOf = (state: DurableObjectState) => state.storage.kv.get<number>("schemaVersion") ?? 0;

/**
 * Records every SQL statement the object's storage runs until `stop()`: the real
 * `SqlStorage` stays underneath, only its `exec` is observed.
 */
function recording(state: DurableObjectState) {
  const statements: string[] = [];
  const real = state.storage.sql;
  const observed = Object.create(real, {
    exec: {
      value: (query: string, ...bindings: unknown[]) => {
        statements.push(query.trim());
        return real.exec(query, ...bindings);
      },
    },
  }) as SqlStorage;
  Object.defineProperty(state.storage, "sql", { value: observed, configurable: true });
  return {
    statements,
    ddl: () => statements.filter((s) => /^(CREATE|ALTER|DROP)\b/i.test(s)),
    stop: () => Object.defineProperty(state.storage, "sql", { value: real, configurable: true }),
  };
}

describe("migrations", () => {
  it("platform:migrations — the oldest tenant upgrades in its constructor; keys, sessions, audit, tool data, OAuth, deployments work", async () => {
    const tenant = uniqueName("old");
    // What a new tenant of today looks like, to compare the upgraded schema with.
    const fresh = await provisionTenant({ servers: [] });
    const freshSchema = await runInDurableObject(tenantObject(fresh.tenant), (_o, state) => schemaOf(state.storage.sql));

    await runInDurableObject(tenantObject(tenant), async (_unused: TenantDO, state) => {
      state.storage.sql.exec(tenantFixture);
      state.storage.kv.put("config", { id: tenant, name: "Old", auth: "key", limits: {}, createdAt: 1764098777000 });
      expect(versionOf(state)).toBe(0);

      const upgraded = new TenantDO(state, env);
      expect(versionOf(state)).toBe(TENANT_MIGRATIONS.steps.length);
      expect(schemaOf(state.storage.sql)).toEqual(freshSchema);

      // keys: the old key still authenticates; new keys can be made.
      const decision = await upgraded.authorize("notes", await sha256Hex(FIXTURE_KEY));
      // A tenant from before incarnations has the legacy one, whose derived names are the old names.
      expect(decision).toEqual({ ok: true, keyId: "key_fixture1", auth: "key", incarnation: "" });
      const second = await upgraded.createKey("second");
      expect(second.ok).toBe(true);
      // sessions: the old row is listed with the counters it never had; new sessions index.
      const sessions = await upgraded.listSessions();
      expect(sessions).toMatchObject({ ok: true, sessions: [{ id: "fixture-session-1", server: "notes", keyId: "key_fixture1" }] });
      const now = Date.now();
      const opened = await upgraded.sessionOpened({
        id: "new-session",
        server: "notes",
        keyId: "key_fixture1",
        grantId: null,
        protocolVersion: "2025-11-25",
        clientInfo: { name: "c", version: "1" },
        createdAt: now,
        lastActivity: now,
        expiresAt: now + 60_000,
      }, "");
      expect(opened.ok).toBe(true);
      // audit: the log starts at the upgrade and verifies; retention works.
      const page = await upgraded.auditPage(0, 100);
      expect(page.ok && page.entries.map((e) => e.action)).toEqual(["key.created", "session.created"]);
      expect(await upgraded.verifyAudit()).toMatchObject({ ok: true, verdict: { ok: true, entries: 2 } });
      expect(await upgraded.auditCheckpoint()).toMatchObject({ ok: true, checkpoint: { seq: 2 } });
      // tool data: the old row is there; writes work.
      expect(await upgraded.dataGet("notes", "notes", "n1", "")).toMatchObject({ id: "n1" });
      expect(await upgraded.dataPut("notes", "notes", "n2", JSON.stringify({ title: "new" }), "")).toMatchObject({ ok: true });
      // OAuth: a code can be issued and redeemed for tokens.
      const issued = await upgraded.oauthIssueCode({
        codeHash: "c".repeat(64),
        clientId: "client",
        server: "notes",
        resource: `https://smcp.test/mcp/${tenant}/notes`,
        keyId: "key_fixture1",
        redirectUri: "https://client.example/cb",
        codeChallenge: "x",
        scope: "mcp",
      });
      expect(issued).toMatchObject({ ok: true });
      const redeemed = await upgraded.oauthRedeemCode({
        codeHash: "c".repeat(64),
        clientId: "client",
        redirectUri: "https://client.example/cb",
        verifierChallenge: "x",
        resource: null,
        accessHash: "a".repeat(64),
        refreshHash: null,
      });
      expect(redeemed).toMatchObject({ ok: true });
      expect(await upgraded.oauthCheckAccess({ tokenHash: "a".repeat(64), server: "notes", resource: `https://smcp.test/mcp/${tenant}/notes` })).toMatchObject({
        ok: true,
        keyId: "key_fixture1",
      });
      // deployments: the tables exist and answer.
      expect(await upgraded.deploymentList("notes")).toMatchObject({ ok: true });
      expect(await upgraded.deploymentSetEgress("notes", ["api.example.com"])).toMatchObject({ ok: true });
    });
  });

  it("platform:migrations — the oldest session upgrades (request log added, event_log_state and its pruned mark moved to KV, stream index gone) and its event log and request log work", async () => {
    const tenant = uniqueName("old");
    const id = env.SESSION.idFromName(`session:${tenant}/notes/old-session`);
    await runInDurableObject(env.SESSION.get(id), async (_unused: SessionDO, state) => {
      state.storage.sql.exec(sessionFixture);
      // As if its log had been pruned once: the mark must survive the move to KV.
      state.storage.sql.exec("DELETE FROM events WHERE seq = 1; UPDATE event_log_state SET pruned_through = 1 WHERE id = 1");
      state.storage.kv.put("meta", {
        tenant,
        server: "notes",
        keyId: "key_fixture1",
        sessionId: "old-session",
        protocolVersion: "2025-06-18",
        initParams: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "old-client", version: "0.1" } },
        createdAt: 1764098777000,
        lastActivity: Date.now(),
      });
      expect(versionOf(state)).toBe(0);

      const upgraded = new SessionDO(state, env);
      expect(versionOf(state)).toBe(SESSION_MIGRATIONS.steps.length);
      expect(schemaOf(state.storage.sql).objects.map((o) => o.name)).toEqual(["events", "requests"]);
      expect(state.storage.kv.get("eventLogPrunedThrough")).toBe(1);

      expect((await upgraded.events(0, 10))!.map((e) => e.seq)).toEqual([2, 3]);
      expect(await upgraded.requestLog(0, 10)).toEqual([]);
      const view = await upgraded.inspect();
      expect(view).toMatchObject({ id: "old-session", eventLog: { events: 2, lastSeq: 3, prunedThrough: 1 } });
    });
  });

  it("platform:migrations — a new session gets the schema the steps produce, in fewer pages", async () => {
    const build = (name: string, run: (storage: DurableObjectStorage) => void) =>
      runInDurableObject(env.SESSION.get(env.SESSION.idFromName(uniqueName(name))), (_unused: SessionDO, state) => {
        run(state.storage);
        return { schema: schemaOf(state.storage.sql), version: versionOf(state), bytes: state.storage.sql.databaseSize };
      });
    const fresh = await build("fresh-session", (storage) => createSchema(storage, SESSION_MIGRATIONS));
    const stepped = await build("stepped-session", (storage) => migrate(storage, SESSION_MIGRATIONS));
    expect(fresh.schema).toEqual(stepped.schema);
    expect(fresh.version).toBe(SESSION_MIGRATIONS.steps.length);
    expect(stepped.version).toBe(SESSION_MIGRATIONS.steps.length);
    // The steps leave the pages of what they dropped (and AUTOINCREMENT's sqlite_sequence) behind.
    expect(fresh.bytes).toBeLessThan(stepped.bytes);
  });

  it("platform:migrations — the oldest directory upgrades and lists its tenants", async () => {
    const id = env.DIRECTORY.idFromName(uniqueName("old-directory"));
    await runInDurableObject(env.DIRECTORY.get(id), async (_unused: DirectoryDO, state) => {
      // This object's constructor has already run: put it back to what e28d9c2 left.
      state.storage.sql.exec("DROP TABLE IF EXISTS tenants");
      state.storage.kv.delete("schemaVersion");
      state.storage.sql.exec(directoryFixture);

      const upgraded = new DirectoryDO(state, env);
      expect(versionOf(state)).toBe(DIRECTORY_MIGRATIONS.steps.length);
      expect(await upgraded.list()).toEqual(["acme", "globex"]);
      await upgraded.add("initech");
      expect(await upgraded.list()).toEqual(["acme", "globex", "initech"]);
    });
  });

  it("platform:migrations — constructing and using a current tenant runs no DDL and changes neither schema version nor schema", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes"] });
    await runInDurableObject(tenantObject(tenant), async (_o: TenantDO, state) => {
      const before = { version: versionOf(state), schema: schemaOf(state.storage.sql) };
      const { ddl, statements, stop } = recording(state);
      const again = new TenantDO(state, env);
      // OAuth and deployments used to create their tables on every call.
      await again.oauthCheckAccess({ tokenHash: "0".repeat(64), server: "notes", resource: "https://smcp.test/x" });
      await again.deploymentList("notes");
      await again.listKeys();
      stop();
      expect(statements.length).toBeGreaterThan(0);
      expect(ddl()).toEqual([]);
      expect({ version: versionOf(state), schema: schemaOf(state.storage.sql) }).toEqual(before);
    });
  });

  it("platform:migrations — a current session and the directory, constructed again, run no DDL", async () => {
    const { tenant, key } = await provisionTenant({ servers: ["notes"] });
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await runInDurableObject(sessionStub(tenant, "notes", session.sessionId), async (_o: SessionDO, state) => {
      const before = versionOf(state);
      expect(before).toBe(SESSION_MIGRATIONS.steps.length);
      const { ddl, statements, stop } = recording(state);
      const again = new SessionDO(state, env);
      await again.requestLog(0, 10);
      await again.events(0, 10);
      stop();
      expect(statements.length).toBeGreaterThan(0);
      expect(ddl()).toEqual([]);
      expect(versionOf(state)).toBe(before);
    });
    await runInDurableObject(env.DIRECTORY.get(env.DIRECTORY.idFromName("directory")), async (_o: DirectoryDO, state) => {
      const { ddl, statements, stop } = recording(state);
      const again = new DirectoryDO(state, env);
      expect(await again.list()).toContain(tenant);
      stop();
      expect(statements.length).toBeGreaterThan(0);
      expect(ddl()).toEqual([]);
    });
  });

  it("platform:migrations — a looked-up tenant or session that does not exist gets no storage", async () => {
    const tenant = uniqueName("ghost");
    expect((await admin("GET", `/tenants/${tenant}`)).status).toBe(404);
    expect((await admin("GET", `/tenants/${tenant}/audit/verify`)).status).toBe(404);
    expect((await admin("GET", `/tenants/${tenant}/audit/checkpoints`)).status).toBe(404);
    const session = env.SESSION.get(env.SESSION.idFromName(`session:${tenant}/notes/nope`));
    expect(await session.inspect()).toBeNull();
    expect(await storageOf(env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`)))).toEqual(EMPTY_STORAGE);
    expect(await storageOf(session)).toEqual(EMPTY_STORAGE);
    // A real tenant, for contrast, holds its config, its schema version and its tables.
    const real = await provisionTenant({ servers: [] });
    const stored = await storageOf(tenantObject(real.tenant));
    expect(stored.kvKeys.sort()).toEqual(["config", "schemaVersion"]);
    expect(stored.tables).toContain("audit_checkpoints");
  });
});
