/**
 * Write-only secrets of deployed servers (SPEC section 9, docs/tenant-servers.md):
 * set, list and delete through the admin API; sealed at rest with SMCP_SECRETS_KEY;
 * never in an answer, an audit row, a kept error or a log line; the deployed module
 * reads them as its environment, and a changed secret reaches new sessions; rotation
 * to a new key; 503 without a key.
 *
 * The pool's workerd runs with SMCP_SECRETS_KEY = KEY and SMCP_SECRETS_KEY_PREVIOUS =
 * PREVIOUS (vitest.config.ts). Other keys are tried by calling the Worker's own fetch
 * handler with an env that differs only in those variables: the real routes, the real
 * tenant objects; only the Worker's view of the key changes.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { secretKeyId, decodeBase64 } from "@smcp/runtime";
import worker from "../src/index";
import type { TenantDO } from "../src/tenant-do";
import { ADMIN_TOKEN, ORIGIN, adminOk, captureConsole, callTool, eventRows, mcpUrl, openSession, provisionTenant, request, sessionStub, statelessTool, textOf, type Tenant } from "./helpers";

/** vitest.config.ts's SMCP_SECRETS_KEY and SMCP_SECRETS_KEY_PREVIOUS. */
const KEY = "4BKo4/kj6Ro/eqYpqLU19YckvfGb4eCdcL0IE+nqbcg=";
const PREVIOUS = "n97IO1DN6mqhAisXM17eoH6h5QR4zJglksPJH3HGBWI";
/** A key the platform does not know. */
const STRANGER = "Tu3JHuXgUbQaADLYBKsjY2DAScZ-6FhD07sRmHdvM5o";

const idOf = async (key: string) => secretKeyId(decodeBase64(key)!);

/** A module whose tool answers the secret `name` from ctx.env and from cloudflare:workers' env, logs it and can throw it. */
const ECHO = `
import { env } from "cloudflare:workers";
export default { tools: [
  { name: "read", inputSchema: { type: "object" }, handler: (args, ctx) => ({ ctx: ctx.env[args.name] ?? null, env: env[args.name] ?? null, names: Object.keys(ctx.env).sort() }) },
  { name: "leak", inputSchema: { type: "object" }, handler(args, ctx) { ctx.log("warning", "the token is " + ctx.env[args.name]); ctx.log({ token: ctx.env[args.name] }); throw new Error("failed with " + ctx.env[args.name]); } },
] };
`;

function secretUrl(tenant: string, server: string, name = "") {
  return `${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/secrets${name ? `/${name}` : ""}`;
}

/** PUT a secret through SELF, or through the Worker's fetch with other key variables when `keys` is given. */
async function putSecret(tenant: string, server: string, name: string, value: string, keys?: { current?: string; previous?: string }): Promise<Response> {
  const req = new Request(secretUrl(tenant, server, name), { method: "PUT", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "text/plain" }, body: value });
  if (!keys) return SELF.fetch(req);
  return worker.fetch(req, { ...env, SMCP_SECRETS_KEY: keys.current, SMCP_SECRETS_KEY_PREVIOUS: keys.previous });
}

async function setSecret(tenant: string, server: string, name: string, value: string, keys?: { current?: string; previous?: string }): Promise<any> {
  const res = await putSecret(tenant, server, name, value, keys);
  const text = await res.text();
  expect([200, 201], text).toContain(res.status);
  // (A short test value would match the answer's own words.)
  if (value.length >= 8) expect(text).not.toContain(value);
  return JSON.parse(text);
}

async function deploy(tenant: string, server: string, source: string): Promise<void> {
  const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: source,
  });
  expect([200, 201], await res.text()).toContain(res.status);
}

const tenantObject = (tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));

function rawSecretRows(tenant: string) {
  return runInDurableObject(tenantObject(tenant), async (_: TenantDO, state) =>
    state.storage.sql.exec<Record<string, string | number>>("SELECT * FROM server_secrets ORDER BY server, name").toArray(),
  );
}

/** Every line the Worker writes to the console while a test runs (logEvent and anything else). */
let consoleLines: string[] = [];
beforeEach(() => {
  consoleLines = captureConsole();
});
afterEach(() => vi.restoreAllMocks());

describe("secrets API", () => {
  let t: Tenant;
  beforeEach(async () => {
    t = await provisionTenant({ prefix: "sec", servers: [] });
  });

  it("deployed:secrets admin:audit — set before any deploy, list names and times only, replace, delete; audited by name only", async () => {
    const value = `sk-live-${crypto.randomUUID()}`;
    expect((await putSecret(t.tenant, "api", "API_TOKEN", value)).status).toBe(201);
    const replaced = await setSecret(t.tenant, "api", "API_TOKEN", `${value}-2`);
    expect(replaced).toEqual({ server: "api", name: "API_TOKEN", created: false });
    await setSecret(t.tenant, "api", "OTHER", "x");

    const listRes = await SELF.fetch(secretUrl(t.tenant, "api"), { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const listText = await listRes.text();
    expect(listRes.status).toBe(200);
    expect(listText).not.toContain(value);
    const list = JSON.parse(listText);
    expect(list.keyId).toBe(await idOf(KEY));
    expect(list.secrets.map((s: any) => Object.keys(s).sort())).toEqual([
      ["createdAt", "keyId", "name", "updatedAt"],
      ["createdAt", "keyId", "name", "updatedAt"],
    ]);
    expect(list.secrets.map((s: any) => s.name)).toEqual(["API_TOKEN", "OTHER"]);
    // Another server of the tenant has none of them.
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/other/secrets`)).secrets).toEqual([]);

    expect(await adminOk("DELETE", `/tenants/${t.tenant}/servers/api/secrets/OTHER`)).toEqual({ server: "api", name: "OTHER", deleted: true });
    const again = await SELF.fetch(secretUrl(t.tenant, "api", "OTHER"), { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(again.status).toBe(404);
    expect((await again.json<any>()).error.code).toBe("unknown_secret");
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/api/secrets`)).secrets.map((s: any) => s.name)).toEqual(["API_TOKEN"]);

    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    const rows = audit.entries.filter((e: any) => e.action.startsWith("secret"));
    expect(rows.map((e: any) => [e.action, e.target, e.detail])).toEqual([
      ["secret.set", "api", { name: "API_TOKEN", created: true }],
      ["secret.set", "api", { name: "API_TOKEN", created: false }],
      ["secret.set", "api", { name: "OTHER", created: true }],
      ["secret.deleted", "api", { name: "OTHER" }],
    ]);
    expect(JSON.stringify(audit)).not.toContain(value);
    expect(consoleLines.join("\n")).not.toContain(value);
  });

  it("deployed:secrets — stored sealed: the raw row holds the key id, an IV and ciphertext, never the value", async () => {
    const value = `pw-${crypto.randomUUID()}`;
    await setSecret(t.tenant, "api", "DB_PASSWORD", value);
    const rows = await rawSecretRows(t.tenant);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(Object.keys(row).sort()).toEqual(["ciphertext", "created_at", "iv", "key_id", "name", "server", "updated_at"]);
    expect(row.key_id).toBe(await idOf(KEY));
    const raw = JSON.stringify(row);
    expect(raw).not.toContain(value);
    expect(raw).not.toContain(btoa(value));
    // AES-GCM: the value's length plus the 16-byte tag, in base64.
    expect(decodeBase64(String(row.ciphertext))!.byteLength).toBe(new TextEncoder().encode(value).byteLength + 16);
    expect(decodeBase64(String(row.iv))!.byteLength).toBe(12);
    // Setting the same value again seals it afresh (a new IV), so equal values do not show as equal.
    await setSecret(t.tenant, "api", "DB_PASSWORD", value);
    expect((await rawSecretRows(t.tenant))[0]!.iv).not.toBe(row.iv);
  });

  it("deployed:secrets admin:errors — bad names, reserved names, empty and oversized values get 400; built-in servers 409; unknown tenant 404", async () => {
    const cases: [string, string, number, string][] = [
      ["api_token", "v", 400, "invalid_secret_name"],
      ["1TOKEN", "v", 400, "invalid_secret_name"],
      ["A".repeat(65), "v", 400, "invalid_secret_name"],
      ["TOKEN%2FX", "v", 400, "invalid_secret_name"],
      ["STORE", "v", 400, "reserved_secret_name"],
      ["TOKEN", "", 400, "invalid_secret_value"],
      ["TOKEN", "x".repeat(16 * 1024 + 1), 400, "secret_too_large"],
    ];
    for (const [name, value, status, code] of cases) {
      const res = await putSecret(t.tenant, "api", name, value);
      const body = await res.json<any>();
      expect([res.status, body.error.code], name).toEqual([status, code]);
    }
    expect((await setSecret(t.tenant, "api", `A${"B".repeat(63)}`, "x".repeat(16 * 1024))).created).toBe(true);
    const builtIn = await putSecret(t.tenant, "notes", "TOKEN", "v");
    expect([builtIn.status, (await builtIn.json<any>()).error.code]).toEqual([409, "server_is_built_in"]);
    const unknown = await putSecret(`${t.tenant}-none`, "api", "TOKEN", "v");
    expect([unknown.status, (await unknown.json<any>()).error.code]).toEqual([404, "unknown_tenant"]);
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/api/secrets`)).secrets.map((s: any) => s.name)).toEqual([`A${"B".repeat(63)}`]);
  });

  it("deployed:secrets platform:quotas — a server holds at most 32 secrets; replacing one at the cap still works", async () => {
    for (let i = 0; i < 32; i++) await setSecret(t.tenant, "api", `S${i}`, "v");
    const over = await putSecret(t.tenant, "api", "S32", "v");
    expect([over.status, (await over.json<any>()).error.code]).toEqual([409, "too_many_secrets"]);
    expect((await setSecret(t.tenant, "api", "S0", "w")).created).toBe(false);
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/api/secrets`)).secrets).toHaveLength(32);
  });

  it("deployed:secrets platform:config — without SMCP_SECRETS_KEY (or with a malformed one) every secrets call answers 503 saying what to set", async () => {
    for (const current of [undefined, "", "too-short"]) {
      for (const [method, url] of [
        ["PUT", secretUrl(t.tenant, "api", "TOKEN")],
        ["GET", secretUrl(t.tenant, "api")],
        ["DELETE", secretUrl(t.tenant, "api", "TOKEN")],
        ["POST", `${ORIGIN}/admin/v1/tenants/${t.tenant}/secrets/rekey`],
      ] as const) {
        const req = new Request(url, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: method === "PUT" ? "v" : undefined });
        const res = await worker.fetch(req, { ...env, SMCP_SECRETS_KEY: current });
        const body = await res.json<any>();
        expect([res.status, body.error.code], `${method} with ${current}`).toEqual([503, "secrets_key_missing"]);
        expect(body.error.message).toContain("SMCP_SECRETS_KEY");
        expect(body.error.message).toContain("wrangler secret put SMCP_SECRETS_KEY");
      }
    }
    expect(await rawSecretRows(t.tenant)).toEqual([]);
  });

  it("deployed:secrets admin:tenants — disabling the server keeps its secrets; deleting the tenant removes them", async () => {
    await setSecret(t.tenant, "api", "TOKEN", "v");
    await deploy(t.tenant, "api", ECHO);
    await adminOk("DELETE", `/tenants/${t.tenant}/servers/api`);
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/api/secrets`)).secrets.map((s: any) => s.name)).toEqual(["TOKEN"]);
    await adminOk("DELETE", `/tenants/${t.tenant}`);
    const rows = await runInDurableObject(tenantObject(t.tenant), async (_: TenantDO, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'server_secrets'").toArray(),
    );
    expect(rows).toEqual([]);
  });
});

describe("secrets in the sandbox", () => {
  it("deployed:secrets deployed:instances isolation:tenants — the module reads its secret as env; a changed secret reaches new sessions, a live one keeps its own", async () => {
    const t = await provisionTenant({ prefix: "sec-env", servers: [] });
    await setSecret(t.tenant, "api", "API_TOKEN", "first-value");
    await deploy(t.tenant, "api", ECHO);
    const first = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(first, "read", { name: "API_TOKEN" })).structuredContent).toEqual({ ctx: "first-value", env: "first-value", names: ["API_TOKEN"] });

    await setSecret(t.tenant, "api", "API_TOKEN", "second-value");
    await setSecret(t.tenant, "api", "EXTRA", "e");
    const second = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(second, "read", { name: "API_TOKEN" })).structuredContent).toEqual({ ctx: "second-value", env: "second-value", names: ["API_TOKEN", "EXTRA"] });
    // The stateless lane loads the same environment.
    expect((await statelessTool(mcpUrl(t.tenant, "api"), t.key, "read", { name: "API_TOKEN" })).structuredContent.ctx).toBe("second-value");
    // The session opened before keeps the isolate (and environment) it started with.
    expect((await callTool(first, "read", { name: "API_TOKEN" })).structuredContent.ctx).toBe("first-value");

    await adminOk("DELETE", `/tenants/${t.tenant}/servers/api/secrets/API_TOKEN`);
    const third = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(third, "read", { name: "API_TOKEN" })).structuredContent).toEqual({ ctx: null, env: null, names: ["EXTRA"] });

    // Another tenant's server of the same name and module sees nothing of this one's.
    const other = await provisionTenant({ prefix: "sec-env-o", servers: [] });
    await deploy(other.tenant, "api", ECHO);
    const stranger = await openSession(mcpUrl(other.tenant, "api"), other.key);
    expect((await callTool(stranger, "read", { name: "EXTRA" })).structuredContent).toEqual({ ctx: null, env: null, names: [] });
  });

  it("deployed:secrets platform:observability — console lines, kept errors and log lines hold the redacted secret, never its value", async () => {
    const t = await provisionTenant({ prefix: "sec-log", servers: [] });
    const value = `tok_${crypto.randomUUID()}"\\`;
    await setSecret(t.tenant, "api", "API_TOKEN", value);
    await deploy(t.tenant, "api", ECHO);
    const session = await openSession(mcpUrl(t.tenant, "api"), t.key);
    const res = await request(session, "tools/call", { name: "leak", arguments: { name: "API_TOKEN" } });
    // The tool's own error result is what the server chose to answer: passed on as it is.
    expect(res.result.isError).toBe(true);
    expect(textOf(res.result)).toBe(`failed with ${value}`);

    const view = await adminOk("GET", `/tenants/${t.tenant}/servers/api`);
    expect(view.lastErrors.map((e: any) => e.message)).toEqual(["tool leak: failed with [secret API_TOKEN]"]);
    const events = await eventRows(sessionStub(t.tenant, "api", session.sessionId));
    const logged = events.map((e) => JSON.parse(e.message)).filter((m) => m.method === "notifications/message").map((m) => m.params.data);
    expect(logged).toEqual(["the token is [secret API_TOKEN]", '{"token":"[secret API_TOKEN]"}']);
    const tenantLog = consoleLines.filter((l) => l.includes('"tenant log"'));
    expect(tenantLog).toHaveLength(2);
    expect(tenantLog.join("\n")).toContain("[secret API_TOKEN]");
    for (const text of [JSON.stringify(view), JSON.stringify(events.filter((e) => !e.message.includes('"result"'))), consoleLines.join("\n")]) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(JSON.stringify(value).slice(1, -1));
    }
  });

  it("deployed:secrets admin:errors — a value no key opens fails new sessions' calls and the deploy check with an error that says to set it again", async () => {
    const t = await provisionTenant({ prefix: "sec-lost", servers: [] });
    await setSecret(t.tenant, "api", "API_TOKEN", "good");
    await deploy(t.tenant, "api", ECHO);
    // Written by a platform that ran with another key (a key lost, not rotated).
    await setSecret(t.tenant, "api", "API_TOKEN", "sealed-by-a-stranger", { current: STRANGER });
    const session = await openSession(mcpUrl(t.tenant, "api"), t.key);
    const failed = await request(session, "tools/call", { name: "read", arguments: { name: "API_TOKEN" } });
    expect(failed.error.code).toBe(-32603);
    expect(failed.error.message).toContain(`secret API_TOKEN of server api is sealed under key ${await idOf(STRANGER)}`);
    expect(failed.error.message).toContain("set the secret again");
    // The deploy's health check loads the secrets too: refused with the reason, nothing stored.
    const refused = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/api/deployments`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
      body: `${ECHO}\n// v2`,
    });
    const body = await refused.json<any>();
    expect([refused.status, body.error.code]).toEqual([409, "secret_unreadable"]);
    expect(body.error.message).toContain("set the secret again");
    expect((await adminOk("GET", `/tenants/${t.tenant}/servers/api/deployments`)).deployments).toHaveLength(1);
    // Setting it again mends it for the next session.
    await setSecret(t.tenant, "api", "API_TOKEN", "fresh-value");
    const next = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(next, "read", { name: "API_TOKEN" })).structuredContent.ctx).toBe("fresh-value");
  });
});

describe("key rotation", () => {
  it("deployed:secrets — values under SMCP_SECRETS_KEY_PREVIOUS still open; the rekey call seals them under the current key; then the previous key can go", async () => {
    const t = await provisionTenant({ prefix: "sec-rot", servers: [] });
    // Before the rotation the platform ran with PREVIOUS as its only key.
    const before = { current: PREVIOUS };
    await setSecret(t.tenant, "api", "API_TOKEN", "old-one", before);
    await setSecret(t.tenant, "api", "SECOND", "old-two", before);
    await setSecret(t.tenant, "web", "THIRD", "old-three", before);
    await setSecret(t.tenant, "web", "LOST", "unopenable", { current: STRANGER });
    expect(new Set((await rawSecretRows(t.tenant)).map((r) => r.key_id))).toEqual(new Set([await idOf(PREVIOUS), await idOf(STRANGER)]));

    // Now KEY is current and PREVIOUS the one before: values under PREVIOUS open.
    await deploy(t.tenant, "api", ECHO);
    const session = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(session, "read", { name: "SECOND" })).structuredContent.ctx).toBe("old-two");

    const rekeyed = await adminOk("POST", `/tenants/${t.tenant}/secrets/rekey`, {});
    expect(rekeyed.keyId).toBe(await idOf(KEY));
    expect(rekeyed.unreadable).toEqual(["web/LOST"]);
    // Loading the api server may already have sealed its two again (in the background): together they are three.
    const rows = await rawSecretRows(t.tenant);
    expect(rows.map((r) => [r.server, r.name, r.key_id])).toEqual([
      ["api", "API_TOKEN", await idOf(KEY)],
      ["api", "SECOND", await idOf(KEY)],
      ["web", "LOST", await idOf(STRANGER)],
      ["web", "THIRD", await idOf(KEY)],
    ]);
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    const counted = audit.entries.filter((e: any) => e.action === "secrets.rekeyed").reduce((n: number, e: any) => n + e.detail.count, 0);
    expect(counted).toBe(3);
    expect(rekeyed.rekeyed).toBeLessThanOrEqual(3);

    // With the previous key gone, everything re-sealed still opens, and the revision did not move (no fresh isolate needed).
    const after = await worker.fetch(new Request(secretUrl(t.tenant, "web"), { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }), {
      ...env,
      SMCP_SECRETS_KEY_PREVIOUS: undefined,
    });
    expect((await after.json<any>()).secrets.map((s: any) => [s.name, s.keyId])).toEqual([
      ["LOST", await idOf(STRANGER)],
      ["THIRD", await idOf(KEY)],
    ]);
    const second = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(second, "read", { name: "API_TOKEN" })).structuredContent.ctx).toBe("old-one");
  });

  it("deployed:secrets — loading a server seals its values under the previous key again under the current one", async () => {
    const t = await provisionTenant({ prefix: "sec-lazy", servers: [] });
    await setSecret(t.tenant, "api", "API_TOKEN", "lazy", { current: PREVIOUS });
    await deploy(t.tenant, "api", ECHO);
    const deadline = Date.now() + 5_000;
    let keyId: unknown;
    do {
      keyId = (await rawSecretRows(t.tenant))[0]!.key_id;
      if (keyId === (await idOf(KEY))) break;
      await new Promise((r) => setTimeout(r, 20));
    } while (Date.now() < deadline);
    expect(keyId).toBe(await idOf(KEY));
    const session = await openSession(mcpUrl(t.tenant, "api"), t.key);
    expect((await callTool(session, "read", { name: "API_TOKEN" })).structuredContent.ctx).toBe("lazy");
  });
});
