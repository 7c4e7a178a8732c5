/**
 * The tool-data quota counts what is stored (issue 10, item 11): a row's keys
 * (server, collection, id; twice, as the table and its key index hold them) and
 * 64 bytes of row overhead besides its value, with a cap on rows per tenant; and a
 * tenant whose running total was kept under the old rule (`toolDataBytes`: values
 * only) is recounted under the new one.
 *
 * Writes go the way a tenant's code makes them: a deployed module's `ctx.store`.
 */
import { SELF, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantDO } from "../src/tenant-do";
import { ADMIN_TOKEN, ORIGIN, adminOk, mcpUrl, provisionTenant, statelessTool, tenantObject, textOf, type Tenant } from "./helpers";

const STORE_MODULE = `export default { tools: [
  { name: "put", async handler(args, ctx) {
      try { await ctx.store.put(args.c, args.id, args.v); return "stored"; } catch (e) { return "refused: " + e.message; }
  } },
  { name: "del", async handler(args, ctx) { return String(await ctx.store.delete(args.c, args.id)); } },
] };`;

const SERVER = "vault";
const OVERHEAD = 64;
const utf8 = (s: string) => new TextEncoder().encode(s).byteLength;
/** A row's bytes under the quota, computed independently of the platform's code. */
const rowBytes = (collection: string, id: string, value: unknown) =>
  2 * (utf8(SERVER) + utf8(collection) + utf8(id)) + utf8(JSON.stringify(value)) + OVERHEAD;

async function storeTenant(limits: Record<string, number>): Promise<Tenant> {
  const t = await provisionTenant({ prefix: "td", servers: [] });
  await adminOk("PATCH", `/tenants/${t.tenant}`, { limits });
  const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${t.tenant}/servers/${SERVER}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: STORE_MODULE,
  });
  expect(res.status, await res.text()).toBe(201);
  return t;
}

const put = async (t: Tenant, c: string, id: string, v: unknown) => textOf(await statelessTool(mcpUrl(t.tenant, SERVER), t.key, "put", { c, id, v }));
const del = async (t: Tenant, c: string, id: string) => textOf(await statelessTool(mcpUrl(t.tenant, SERVER), t.key, "del", { c, id }));

describe("tool-data quota", () => {
  it("platform:quotas — rows with long keys and tiny values fill the byte quota by what they store", async () => {
    const t = await storeTenant({ toolDataBytes: 4096 });
    const collection = "c".repeat(100);
    const id = (n: number) => `${n}`.padStart(200, "k");
    const perRow = rowBytes(collection, id(0), 1);
    expect(perRow).toBe(2 * (5 + 100 + 200) + 1 + 64); // 675 bytes, where the value alone is 1
    const fits = Math.floor(4096 / perRow);
    for (let n = 0; n < fits; n++) expect(await put(t, collection, id(n), 1)).toBe("stored");
    expect(await put(t, collection, id(fits), 1)).toBe(
      `refused: Tool-data quota exceeded: this tenant may store 4096 bytes and holds ${fits * perRow}; nothing was written`,
    );
    // Replacing a row counts only the difference; deleting one gives its bytes back.
    expect(await put(t, collection, id(0), 2)).toBe("stored");
    expect(await del(t, collection, id(1))).toBe("true");
    expect(await put(t, collection, id(fits), 1)).toBe("stored");
  });

  it("platform:quotas — limits.toolDataRows caps the records a tenant holds; overwrites need no new row", async () => {
    const t = await storeTenant({ toolDataRows: 3 });
    for (const id of ["a", "b", "c"]) expect(await put(t, "rows", id, { id })).toBe("stored");
    expect(await put(t, "rows", "d", { id: "d" })).toBe("refused: Tool-data row limit reached: this tenant may store 3 records and holds 3; nothing was written");
    expect(await put(t, "rows", "a", { id: "a", again: true })).toBe("stored");
    expect(await del(t, "rows", "b")).toBe("true");
    expect(await put(t, "rows", "d", { id: "d" })).toBe("stored");
    const audit = await adminOk("GET", `/tenants/${t.tenant}/audit`);
    expect(audit.entries.some((e: any) => e.action === "limit.hit" && e.target === "tool-data-rows")).toBe(true);
  });

  it("platform:quotas — non-ASCII keys and values count their UTF-8 bytes, for a new id and for a replace", async () => {
    const t = await storeTenant({ toolDataBytes: 1_000_000 });
    const usage = () => runInDurableObject(tenantObject(t.tenant), async (_: TenantDO, state) => state.storage.kv.get("toolDataUsage"));
    const value = "é€😀 \ud800 x"; // two, three and four bytes a character, and a lone surrogate (written as U+FFFD)
    expect(await put(t, "nötes", "ïd-1", value)).toBe("stored");
    expect(await usage()).toEqual({ bytes: rowBytes("nötes", "ïd-1", value), rows: 1 });
    expect(await put(t, "nötes", "ïd-1", "€€")).toBe("stored");
    expect(await usage()).toEqual({ bytes: rowBytes("nötes", "ïd-1", "€€"), rows: 1 });
  });

  it("platform:quotas — a tenant whose total counted values only is recounted with keys and overhead", async () => {
    const t = await storeTenant({ toolDataBytes: 1_000_000 });
    expect(await put(t, "notes", "first", "x")).toBe("stored");
    // Make the tenant look like one written by the old code: its rows, and a values-only total under the old key.
    const rows = [
      ["notes", "second", JSON.stringify("y".repeat(10))],
      ["other", "third", JSON.stringify({ z: 1 })],
    ] as const;
    await runInDurableObject(tenantObject(t.tenant), async (_: TenantDO, state) => {
      for (const [c, id, v] of rows) {
        state.storage.sql.exec("INSERT INTO tool_data (server, collection, id, value, updated_at) VALUES (?, ?, ?, ?, 0)", SERVER, c, id, v);
      }
      const values = state.storage.sql.exec<{ n: number }>("SELECT sum(length(CAST(value AS BLOB))) AS n FROM tool_data").one().n;
      state.storage.kv.delete("toolDataUsage");
      state.storage.kv.put("toolDataBytes", values);
    });

    expect(await put(t, "notes", "fourth", [1, 2])).toBe("stored");
    const expected =
      rowBytes("notes", "first", "x") + rowBytes("notes", "second", "y".repeat(10)) + rowBytes("other", "third", { z: 1 }) + rowBytes("notes", "fourth", [1, 2]);
    const stored = await runInDurableObject(tenantObject(t.tenant), async (_: TenantDO, state) => ({
      usage: state.storage.kv.get("toolDataUsage"),
      legacy: state.storage.kv.get("toolDataBytes"),
    }));
    expect(stored).toEqual({ usage: { bytes: expected, rows: 4 }, legacy: undefined });
  });
});
