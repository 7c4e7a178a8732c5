/**
 * docs/storage-schema.md checked against what the Durable Objects really hold (issue 11,
 * item 3). A tenant is driven through the platform's features as its admin and its
 * clients would, through the Worker (`SELF`): keys, servers, sessions on both lanes,
 * tool calls on notes, everything and a deployed module, OAuth (register, authorize,
 * token, refresh, a session on the token), audit checkpoint, export and drop, a
 * failed-auth window, a session that ended, a delete that stopped half-way. Then the
 * real schema is read inside each object (`sqlite_master`, `pragma_table_info`,
 * `pragma_index_info`, `ctx.storage.kv.list()`) and compared with the doc, parsed by
 * test/storage-doc.ts: anything stored that the doc lacks, and anything the doc names
 * that no object holds, is a failure naming it.
 *
 * Transient KV keys are checked in their state: a snapshot is taken while a failed-auth
 * window is open, while a delete waits on a stuck session, and while an ended session
 * waits for its tenant; every other snapshot is taken when no such state is open.
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import storageDocText from "../../../docs/storage-schema.md?raw";
import converterSource from "../../../examples/unit-converter.js?raw";
import { addressKey, addressObjectName } from "../src/oauth/abuse-limits";
import { taskObjectName } from "../src/tasks/task-do";
import { principalObjectName } from "../src/gateway/principal-upstream-do";
import {
  ADMIN_TOKEN,
  EMPTY_STORAGE,
  ORIGIN,
  admin,
  adminOk,
  busStub,
  callTool,
  mcpFetch,
  mcpUrl,
  newKey,
  openSession,
  openStream,
  provisionTenant,
  rememberIncarnation,
  request,
  responseMessage,
  rpc,
  send,
  sessionStub,
  statelessFetch,
  statelessMeta,
  statelessTool,
  storageOf,
  type Session,
  flushReports,
  reportShards,
} from "./helpers";
import { authorizeUrl, getPage, pkcePair, randomAddress, register, tokenRequest, tokensFor, tokensOk } from "./oauth-helpers";
import { parseStorageDoc, storageProblems, type DocStore, type Snapshot } from "./storage-doc";

const doc = parseStorageDoc(storageDocText);

function section(name: string): DocStore {
  const found = doc.get(name);
  if (!found) throw new Error(`docs/storage-schema.md has no section "## ${name} — …" with a key or table table`);
  return found;
}

const tenantObject = (tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));
const limiterObject = (name: string) => env.OAUTH_LIMITER.get(env.OAUTH_LIMITER.idFromName(name));
const directoryObject = () => env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));

/** Everything a Durable Object holds that the doc describes, read from inside it. */
function snapshot(stub: DurableObjectStub, label: string, phase: Snapshot["phase"] = "settled"): Promise<Snapshot> {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const objects = sql
      .exec<{ type: string; name: string; tbl_name: string }>(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE substr(name, 1, 4) <> '_cf_' AND substr(name, 1, 7) <> 'sqlite_'",
      )
      .toArray();
    const of = (type: string) => objects.filter((o) => o.type === type);
    return {
      label,
      phase,
      kv: Object.fromEntries(state.storage.kv.list()),
      sql: {
        tables: of("table").map((t) => ({
          name: t.name,
          columns: sql
            .exec<{ name: string; type: string; pk: number }>("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", t.name)
            .toArray()
            .map((c) => ({ ...c })),
        })),
        indexes: of("index").map((x) => ({
          name: x.name,
          table: x.tbl_name,
          columns: sql.exec<{ name: string }>("SELECT name FROM pragma_index_info(?) ORDER BY seqno", x.name).toArray().map((c) => c.name),
        })),
        triggers: of("trigger").map((x) => ({ name: x.name, table: x.tbl_name })),
      },
    };
  });
}

/**
 * Holds a Durable Object in `blockConcurrencyWhile` until `release()`: it answers nothing
 * meanwhile, as a stuck or overloaded object would. The test learns that the block has
 * begun by polling a flag, not by a promise the object resolves: code after such an
 * await would run in the object's I/O context, and stubs made outside it would fail there.
 */
async function hold(stub: DurableObjectStub): Promise<{ release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered = false;
  await runInDurableObject(stub, (_instance, state) => {
    // Begun after this call has answered: a block begun inside it would hold its own answer too.
    setTimeout(() => {
      void state.blockConcurrencyWhile(async () => {
        entered = true;
        await gate;
      });
    }, 0);
  });
  await until("the object to be held", async () => entered);
  return { release };
}

/** Polls `check` until it holds, for at most `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function deploy(tenant: string, server: string, source: string): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: source,
  });
}

const randomKey = () => {
  let binary = "";
  for (const b of crypto.getRandomValues(new Uint8Array(32))) binary += String.fromCharCode(b);
  return `smcp_sk_${btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
};

/** The snapshots of each store, filled by the drive below. */
const seen: Record<"SessionDO" | "TenantDO" | "DirectoryDO" | "OAuthLimiterDO" | "ListenBusDO" | "TaskDO" | "UpstreamPrincipalDO" | "ReportShardDO" | "OAUTH_KV", Snapshot[]> = {
  ReportShardDO: [],
  ListenBusDO: [],
  UpstreamPrincipalDO: [],
  SessionDO: [],
  TaskDO: [],
  TenantDO: [],
  DirectoryDO: [],
  OAuthLimiterDO: [],
  OAUTH_KV: [],
};
/** Objects the doc says hold nothing after what was done to them. */
const empty: { label: string; storage: Awaited<ReturnType<typeof storageOf>> }[] = [];
/** A principal's UpstreamPrincipalDO after a stateless request: the doc says it keeps its idle alarm and nothing else. */
let upstreamPrincipal: Awaited<ReturnType<typeof storageOf>> | undefined;

beforeAll(async () => {
  // --- a tenant, its keys and servers (admin API) ------------------------------------------
  const t = await provisionTenant({ prefix: "schema", servers: ["notes", "everything"] });
  const key = t.key!;
  const revoked = await newKey(t.tenant);
  await adminOk("DELETE", `/tenants/${t.tenant}/keys/${revoked.id}`);
  const notesUrl = mcpUrl(t.tenant, "notes");
  const everythingUrl = mcpUrl(t.tenant, "everything");

  // --- the session lane: notes and everything, a standalone stream -----------------------------
  const notes = await openSession(notesUrl, key);
  await callTool(notes, "add_note", { title: "first", body: "kept by the tenant" });
  await callTool(notes, "list_notes");
  await callTool(notes, "search_notes", { query: "tenant" });
  expect((await request(notes, "resources/list")).result.resources).toHaveLength(1);
  const stream = await openStream(notes);
  expect(stream.status).toBe(200);
  await stream.body?.cancel();
  const everything = await openSession(everythingUrl, key, "2025-06-18");
  await callTool(everything, "test_simple_text");
  expect((await callTool(everything, "test_error_handling")).isError).toBe(true);
  expect((await request(everything, "no/such/method")).error.code).toBe(-32601);
  // More events than the log keeps (SMCP_EVENT_LOG_MAX_EVENTS is 20 here; five each): the oldest go, the pruned mark stays in KV.
  for (let i = 0; i < 5; i++) await callTool(everything, "test_tool_with_logging");
  // A client's log level and subscription, kept in `meta.replay` for a rebuilt server.
  expect((await request(everything, "logging/setLevel", { level: "warning" })).error).toBeUndefined();
  expect((await request(everything, "resources/subscribe", { uri: "test://static-text" })).error).toBeUndefined();

  // --- the stateless lane ----------------------------------------------------------------------------
  await statelessTool(notesUrl, key, "add_note", { title: "second", body: "from the stateless lane" });
  await statelessTool(everythingUrl, key, "test_simple_text");
  // A listen stream writes nothing; a published list change does.
  const listening = await statelessFetch(notesUrl, key, "subscriptions/listen", { notifications: { toolsListChanged: true } });
  expect(listening.status).toBe(200);
  await listening.body?.cancel();
  empty.push({ label: "the listen bus of a server only listened to", storage: await storageOf(busStub(t.tenant, "notes")) });
  await statelessTool(everythingUrl, key, "test_trigger_tool_change");
  await until("the list change to reach the bus", async () => (await storageOf(busStub(t.tenant, "everything"))).kvKeys.includes("schemaVersion"));
  seen.ListenBusDO.push(await snapshot(busStub(t.tenant, "everything"), "the bus of a server whose tool published a list change"));

  // --- the stateless lane in front of an upstream: the caller's UpstreamPrincipalDO -------------------
  // A header naming a secret the server lacks fails the upstream session without a fetch; the object was asked all the same.
  const gw = await provisionTenant({ prefix: "schema-up", servers: [] });
  await adminOk("PUT", `/tenants/${gw.tenant}/servers/remote/upstream`, { url: "https://smcp-storage-schema.invalid/mcp", headers: { authorization: "Bearer ${secret:MISSING}" } }, 201);
  const upstreamCall = await statelessFetch(mcpUrl(gw.tenant, "remote"), gw.key!, "tools/list", {});
  await upstreamCall.text();
  const principal = { tenant: gw.tenant, incarnation: await rememberIncarnation(gw.tenant), server: "remote", keyId: gw.keyId };
  const principalObject = env.UPSTREAMS.get(env.UPSTREAMS.idFromName(principalObjectName(principal)));
  seen.UpstreamPrincipalDO.push(await snapshot(principalObject, "the upstream object of a caller of an upstream server"));
  upstreamPrincipal = await storageOf(principalObject);

  // --- tasks (2026-07-28 Tasks extension): one finished, one waiting for input -------------------
  const taskMeta = { ...statelessMeta(), "io.modelcontextprotocol/clientCapabilities": { elicitation: {}, extensions: { "io.modelcontextprotocol/tasks": {} } } };
  for (const [name, args] of [["slow_compute", { seconds: 0 }], ["confirm_delete", { filename: "x" }]] as const) {
    const created = await mcpFetch(everythingUrl, {
      key,
      headers: { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name },
      body: rpc("tools/call", { name, arguments: args, _meta: taskMeta }),
    });
    expect((await responseMessage(created)).result.resultType).toBe("task");
  }

  // --- OAuth: a confidential and a public client from one address; code, token, refresh -------------
  const from = randomAddress();
  await register({ client_name: "confidential", client_uri: "https://client.example", token_endpoint_auth_method: "client_secret_post" }, from);
  const first = await tokensFor(t, "notes", undefined, from);
  const refreshed = await tokensOk(
    await tokenRequest({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: first.client.client_id, resource: notesUrl }, {}, from),
  );
  const oauthSession = await openSession(notesUrl, refreshed.access_token);
  await callTool(oauthSession, "list_notes");

  // --- a deployed module: deploy, egress, a session, a call that works and one that fails -----------
  const deployed = await deploy(t.tenant, "units", converterSource);
  expect(deployed.status, await deployed.clone().text()).toBe(201);
  await adminOk("PUT", `/tenants/${t.tenant}/servers/units/egress`, { allow: ["api.example.com"] });
  const units = await openSession(mcpUrl(t.tenant, "units"), key);
  expect((await callTool(units, "convert", { value: 1, from: "km", to: "m" })).structuredContent).toEqual({ value: 1000, unit: "m" });
  expect((await callTool(units, "convert", { value: 1, from: "kg", to: "m" })).isError).toBe(true);
  await statelessTool(mcpUrl(t.tenant, "units"), key, "list_units");

  // --- an upstream server (gateway): its configuration in the tenant's KV ---------------------------
  await adminOk("PUT", `/tenants/${t.tenant}/servers/remote/upstream`, { url: "https://mcp.example.com/mcp", headers: { authorization: "Bearer ${secret:TOKEN}" } }, 201);
  // --- a tool policy (any kind of server): in the tenant's KV too ---------------------------------
  await adminOk("PUT", `/tenants/${t.tenant}/servers/remote/policy`, { allow: ["search", "fetch"], deny: ["secret_tool"], rename: { search: "find" }, descriptions: { fetch: "Fetch one." } }, 201);
  // --- a single sign-on provider: in the tenant's KV, its secret sealed -------------------------
  await adminOk("PUT", `/tenants/${t.tenant}/identity`, { issuer: "https://login.example.com", clientId: "smcp", clientSecret: "s3cret-value", allow: { emailDomains: ["example.com"], subjects: ["u-1"], groups: { claim: "groups", values: ["mcp"] } } }, 201);

  // --- audit: checkpoint, export, drop, verify ---------------------------------------------------
  const { checkpoint } = await adminOk("POST", `/tenants/${t.tenant}/audit/checkpoints`, undefined, 201);
  expect((await admin("GET", `/tenants/${t.tenant}/audit/export?through=${checkpoint.seq}`)).status).toBe(200);
  await adminOk("DELETE", `/tenants/${t.tenant}/audit?through=${checkpoint.seq}`);
  expect(await adminOk("GET", `/tenants/${t.tenant}/audit/verify`)).toMatchObject({ ok: true });

  // --- a session that ended (DELETE): its object holds nothing, the tenant keeps its totals ----------
  const ended = await openSession(notesUrl, key);
  await callTool(ended, "list_notes");
  const deleted = await send(ended, undefined, { method: "DELETE" });
  expect(deleted.status).toBe(200);
  await deleted.body?.cancel();
  empty.push({ label: "a session after DELETE", storage: await storageOf(sessionStub(t.tenant, "notes", ended.sessionId)) });

  // --- the counter reports the sessions' alarms send ------------------------------------------------
  const live: [string, Session][] = [
    ["notes", notes],
    ["everything", everything],
    ["notes", oauthSession],
    ["units", units],
  ];
  for (const [server, s] of live) expect(await runDurableObjectAlarm(sessionStub(t.tenant, server, s.sessionId))).toBe(true);
  // --- the report shards: the reports held, then flushed to the tenant (the shards keep each session's last seq) ---
  const holding = [];
  for (const shard of reportShards(t.tenant)) if ((await storageOf(shard)).kvKeys.length > 0) holding.push(shard);
  expect(holding.length).toBeGreaterThan(0);
  for (const shard of holding) seen.ReportShardDO.push(await snapshot(shard, "a report shard holding reports"));
  expect(await flushReports(t.tenant)).toBe(holding.length);
  for (const shard of holding) seen.ReportShardDO.push(await snapshot(shard, "a report shard after its flush"));

  // --- transient: a failed-auth window, open, then closed by the tenant's alarm ------------------------
  const refused = await mcpFetch(notesUrl, { key: randomKey(), body: rpc("ping") });
  expect(refused.status).toBe(401);
  await refused.body?.cancel();
  seen.TenantDO.push(await snapshot(tenantObject(t.tenant), "a tenant while a failed-auth window is open", "transient"));
  expect(await runDurableObjectAlarm(tenantObject(t.tenant))).toBe(true);

  // --- legacy: a tenant from before `toolDataUsage` has `toolDataBytes`; the next write replaces it -----
  // (Written by hand: no code of today makes an older tenant. The settled snapshot below
  // must then hold `toolDataUsage` again and no `toolDataBytes`.)
  await runInDurableObject(tenantObject(t.tenant), (_instance, state) => {
    state.storage.kv.delete("toolDataUsage");
    state.storage.kv.put("toolDataBytes", 42);
  });
  await callTool(notes, "add_note", { title: "third", body: "after the legacy total" });

  // --- transient: an ended session waiting for its tenant to hear of it ------------------------------
  const ending = await openSession(notesUrl, key);
  const endingStub = sessionStub(t.tenant, "notes", ending.sessionId);
  const heldTenant = await hold(tenantObject(t.tenant));
  // What the tenant's revocation and the admin terminate call; the end commits, then waits on the tenant.
  const terminated = endingStub.terminate();
  await until("the session's end to commit", async () => (await storageOf(endingStub)).kvKeys.includes("ended"));
  seen.SessionDO.push(await snapshot(endingStub, "a session whose end waits for its tenant", "transient"));
  heldTenant.release();
  expect(await terminated).toBe(true);
  empty.push({ label: "a session after its end reached the tenant", storage: await storageOf(endingStub) });

  // --- transient: a tenant delete that stopped at a stuck session, then finished ----------------------
  const doomed = await provisionTenant({ prefix: "schema-del", servers: ["notes"] });
  const stuck = await openSession(mcpUrl(doomed.tenant, "notes"), doomed.key);
  const heldSession = await hold(sessionStub(doomed.tenant, "notes", stuck.sessionId));
  expect((await admin("DELETE", `/tenants/${doomed.tenant}`)).status).toBe(503);
  seen.TenantDO.push(await snapshot(tenantObject(doomed.tenant), "a tenant whose delete stopped half-way", "transient"));
  heldSession.release();
  await adminOk("DELETE", `/tenants/${doomed.tenant}`);
  empty.push({ label: "a tenant after DELETE", storage: await storageOf(tenantObject(doomed.tenant)) });

  // --- settled: every object after the features ran ------------------------------------------------
  seen.TenantDO.push(await snapshot(tenantObject(t.tenant), "the tenant after every feature"));
  for (const [server, s] of live) seen.SessionDO.push(await snapshot(sessionStub(t.tenant, server, s.sessionId), `a ${server} session (${s.key === key ? "key" : "OAuth"})`));
  seen.DirectoryDO.push(await snapshot(directoryObject(), "the directory"));
  const tasks = env.TASKS.get(env.TASKS.idFromName(taskObjectName(t.tenant, (await tenantObject(t.tenant).info())!.incarnation)));
  await until("the tasks to leave working", async () =>
    runInDurableObject(tasks, (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE status = 'working'").one().n === 0),
  );
  seen.TaskDO.push(await snapshot(tasks, "the tasks of the tenant"));
  const fromDigest = await sha256Hex(`smcp-oauth-address:${addressKey(from)}`);
  const address = limiterObject(addressObjectName(fromDigest));
  seen.OAuthLimiterDO.push(await snapshot(address, "the address object of two registrations"));
  empty.push({ label: "a tenant's OAuth limiter object", storage: await storageOf(limiterObject(`tenant:${t.tenant}`)) });
  // An address that only asked for the consent page was counted in memory, nothing more.
  const visitor = randomAddress();
  const page = await getPage(authorizeUrl(first.client, notesUrl, (await pkcePair()).challenge), visitor);
  expect(page.status).toBe(200);
  await page.body?.cancel();
  const visitorObject = limiterObject(addressObjectName(await sha256Hex(`smcp-oauth-address:${addressKey(visitor)}`)));
  empty.push({ label: "the OAuth limiter object of an address that registered nothing", storage: await storageOf(visitorObject) });

  // OAUTH_KV: every key in the namespace (other tests' too: all must be documented), and this test's records.
  const names = (await env.OAUTH_KV.list()).keys.map((k) => k.name);
  const mine = await Promise.all(
    names.map(async (name) => {
      const value = await env.OAUTH_KV.get(name, "json");
      return [name, (value as { registered_from?: string } | null)?.registered_from === fromDigest ? value : undefined] as const;
    }),
  );
  seen.OAUTH_KV.push({ label: "OAUTH_KV", phase: "settled", kv: Object.fromEntries(mine), sql: { tables: [], indexes: [], triggers: [] } });
  expect(mine.filter(([, v]) => v !== undefined)).toHaveLength(2);
}, 30_000);

describe("docs/storage-schema.md", () => {
  it("platform:migrations — SessionDO: every key, table, column, index and trigger of a session is in the doc, and everything the doc names exists", () => {
    expect(storageProblems(section("SessionDO"), seen.SessionDO)).toEqual([]);
  });

  it("platform:migrations tenant:own-object — TenantDO: every key, table, column, index and trigger of a tenant is in the doc, and everything the doc names exists", () => {
    expect(storageProblems(section("TenantDO"), seen.TenantDO)).toEqual([]);
  });

  it("platform:migrations — DirectoryDO, OAuthLimiterDO, ListenBusDO and TaskDO match the doc", () => {
    expect(storageProblems(section("DirectoryDO"), seen.DirectoryDO)).toEqual([]);
    expect(storageProblems(section("OAuthLimiterDO"), seen.OAuthLimiterDO)).toEqual([]);
    expect(storageProblems(section("ListenBusDO"), seen.ListenBusDO)).toEqual([]);
    expect(storageProblems(section("TaskDO"), seen.TaskDO)).toEqual([]);
  });

  it("platform:migrations platform:report-shards — ReportShardDO matches the doc", () => {
    expect(storageProblems(section("ReportShardDO"), seen.ReportShardDO)).toEqual([]);
  });

  it("platform:migrations upstream:stateless-idle — UpstreamPrincipalDO: a caller's object stores no key and no table, only the alarm of its idle timeout, as the doc says", () => {
    // The doc gives the class a section without a key or table table: nothing it names, nothing stored beyond it.
    expect(storageDocText).toMatch(/## UpstreamPrincipalDO —[^#]*\*\*Nothing is stored but\s+an alarm\*\*/);
    const documented = doc.get("UpstreamPrincipalDO") ?? { name: "UpstreamPrincipalDO", kv: [], tables: [], indexes: [], triggers: [] };
    expect(storageProblems(documented, seen.UpstreamPrincipalDO)).toEqual([]);
    expect(upstreamPrincipal).toEqual({ ...EMPTY_STORAGE, alarm: expect.any(Number) });
  });

  it("platform:migrations platform:oauth — the OAUTH_KV namespace holds only the documented client records, with the documented fields", () => {
    expect(storageProblems(section("OAUTH_KV"), seen.OAUTH_KV)).toEqual([]);
  });

  it("platform:migrations session:ttl platform:stranger-writes — what the doc says holds nothing does: ended sessions, a deleted tenant, OAuth limiter objects that only counted requests", () => {
    expect(empty).toEqual(empty.map(({ label }) => ({ label, storage: EMPTY_STORAGE })));
  });
});
