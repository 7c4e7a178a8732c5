/**
 * Audit retention that keeps the log verifiable (tenant/audit-retention.ts):
 * checkpoints, export of the segment before a checkpoint (verifiable offline), drop of
 * an exported segment as the only way rows leave `audit`, and paged verification.
 */
import { runInDurableObject } from "cloudflare:test";
import { verifyAuditChain, type AuditEntry } from "@smcp/runtime";
import { describe, expect, it } from "vitest";
import type { TenantDO } from "../src/tenant-do";
import { AuditLog } from "../src/tenant/audit-log";
import { AUDIT_PAGE_ROWS, AuditRetention } from "../src/tenant/audit-retention";
import { admin, adminOk, newKey, provisionTenant, tenantObject } from "./helpers";

async function exportSegment(tenant: string, through: number) {
  const res = await admin("GET", `/tenants/${tenant}/audit/export?through=${through}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as { tenant: string; segment: { from: number; through: number; prevHash: string; checkpoint: { seq: number; hash: string } }; entries: AuditEntry[] };
}

describe("audit retention", () => {
  it("platform:audit-retention — checkpoint, export (verifies offline), drop, and the rest still verifies from the checkpoint", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes"] });
    for (let i = 0; i < 3; i++) await newKey(tenant);
    const { checkpoint: first } = await adminOk("POST", `/tenants/${tenant}/audit/checkpoints`, undefined, 201);

    // Not exported yet: the drop is refused and nothing leaves the table.
    const early = await admin("DELETE", `/tenants/${tenant}/audit?through=${first.seq}`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as any).error.code).toBe("audit_not_exported");

    const exported = await exportSegment(tenant, first.seq);
    expect(exported.segment).toMatchObject({ from: 1, through: first.seq, checkpoint: { seq: first.seq, hash: first.hash } });
    expect(exported.entries.map((e) => e.seq)).toEqual(Array.from({ length: first.seq }, (_, i) => i + 1));
    // Offline: the file alone proves its chain, ending at the checkpoint's hash.
    expect(await verifyAuditChain(exported.entries, exported.segment.prevHash)).toEqual({ ok: true, entries: first.seq });
    expect(exported.entries.at(-1)!.hash).toBe(first.hash);

    expect(await adminOk("DELETE", `/tenants/${tenant}/audit?through=${first.seq}`)).toEqual({ dropped: first.seq, through: first.seq });
    const { entries: rest } = await adminOk("GET", `/tenants/${tenant}/audit`);
    expect(rest[0].seq).toBe(first.seq + 1);
    expect(rest[0].prevHash).toBe(first.hash);
    // The retention actions are audit entries themselves, chained like any other.
    expect(rest.map((e: any) => e.action)).toEqual(["audit.checkpointed", "audit.exported", "audit.dropped"]);
    expect(rest[2].detail).toMatchObject({ from: 1, through: first.seq, rows: first.seq, hash: first.hash });

    expect(await adminOk("GET", `/tenants/${tenant}/audit/verify`)).toMatchObject({ ok: true, anchor: { seq: first.seq, hash: first.hash } });
    expect(await adminOk("GET", `/tenants/${tenant}/audit/verify?from=start`)).toMatchObject({ ok: true, entries: rest.length, from: first.seq + 1 });

    // The next segment chains from the dropped one's checkpoint, and verifies offline too.
    await newKey(tenant);
    const { checkpoint: second } = await adminOk("POST", `/tenants/${tenant}/audit/checkpoints`, undefined, 201);
    const next = await exportSegment(tenant, second.seq);
    expect(next.segment).toMatchObject({ from: first.seq + 1, prevHash: first.hash });
    expect(await verifyAuditChain(next.entries, next.segment.prevHash)).toMatchObject({ ok: true });
    expect(next.entries.at(-1)!.hash).toBe(second.hash);
    await adminOk("DELETE", `/tenants/${tenant}/audit?through=${second.seq}`);
    expect(await adminOk("GET", `/tenants/${tenant}/audit/checkpoints`)).toMatchObject({
      checkpoints: [{ seq: second.seq }, { seq: first.seq }],
      retention: { exportedThrough: second.seq, droppedThrough: second.seq },
    });
    expect(await adminOk("GET", `/tenants/${tenant}/audit/verify?from=start`)).toMatchObject({ ok: true });
  });

  it("platform:audit-retention — a direct DELETE, an UPDATE, a forged mark and a drop without export or checkpoint are all refused", async () => {
    const { tenant } = await provisionTenant({ servers: ["notes"] });
    await newKey(tenant);
    const { checkpoint } = await adminOk("POST", `/tenants/${tenant}/audit/checkpoints`, undefined, 201);

    const notCheckpoint = await admin("DELETE", `/tenants/${tenant}/audit?through=1`);
    expect(notCheckpoint.status).toBe(409);
    expect(((await notCheckpoint.json()) as any).error.code).toBe("audit_not_a_checkpoint");
    expect((await admin("DELETE", `/tenants/${tenant}/audit?through=abc`)).status).toBe(400);
    expect((await admin("GET", `/tenants/${tenant}/audit/export?through=1`)).status).toBe(409);
    expect((await admin("DELETE", `/tenants/${tenant}-missing/audit?through=1`)).status).toBe(404);

    await runInDurableObject(tenantObject(tenant), async (_o: TenantDO, state) => {
      const sql = state.storage.sql;
      expect(() => sql.exec("DELETE FROM audit")).toThrow(/append-only/);
      expect(() => sql.exec("DELETE FROM audit WHERE seq = 1")).toThrow(/append-only/);
      expect(() => sql.exec("UPDATE audit SET actor = 'mallory' WHERE seq = 1")).toThrow(/append-only/);
      // The mark cannot be raised without an export, nor to a seq that is no checkpoint.
      expect(() => sql.exec("UPDATE audit_retention SET droppable_through = ?", checkpoint.seq)).toThrow(/exported checkpoint/);
      expect(() => sql.exec("UPDATE audit_retention SET exported_through = 2, droppable_through = 2")).toThrow(/exported checkpoint/);
      expect(() => sql.exec("DELETE FROM audit_retention")).toThrow(/cannot be deleted/);
      expect(() => sql.exec("DELETE FROM audit_checkpoints")).toThrow(/append-only/);
      expect(() => sql.exec("UPDATE audit_checkpoints SET hash = 'x'")).toThrow(/append-only/);
      expect(() => sql.exec("INSERT INTO audit_checkpoints (seq, hash, at) VALUES (1, 'forged', 0)")).toThrow(/must name a stored entry/);
      // REPLACE deletes the conflicting row without firing DELETE triggers: refused at insert.
      const insert = (verb: string, seq: number) =>
        sql.exec(`${verb} INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, 0, 'x', 'x', 'x', '{}', 'x', 'x')`, seq);
      expect(() => insert("INSERT OR REPLACE", 1)).toThrow(/append-only/);
      expect(() => insert("REPLACE", 2)).toThrow(/append-only/);
      expect(() => sql.exec("INSERT OR REPLACE INTO audit_retention (id, exported_through, droppable_through) VALUES (1, 0, 0)")).toThrow(/cannot be replaced/);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM audit WHERE seq <= ?", checkpoint.seq).one().n).toBe(checkpoint.seq);
      expect(sql.exec<{ actor: string }>("SELECT actor FROM audit WHERE seq = 1").one().actor).toBe("admin");
    });

    await exportSegment(tenant, checkpoint.seq);
    await adminOk("DELETE", `/tenants/${tenant}/audit?through=${checkpoint.seq}`);
    const again = await admin("DELETE", `/tenants/${tenant}/audit?through=${checkpoint.seq}`);
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).error.code).toBe("audit_already_dropped");
    await runInDurableObject(tenantObject(tenant), async (_o: TenantDO, state) => {
      // After a drop, the rows above the mark are as protected as before, and no seq is reused.
      expect(() => state.storage.sql.exec("DELETE FROM audit")).toThrow(/append-only/);
      expect(() =>
        state.storage.sql.exec("INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (1, 0, 'x', 'x', 'x', '{}', 'x', 'x')"),
      ).toThrow(/append-only/);
    });
  });

  it("platform:audit-retention — a segment longer than one page streams whole and verifies offline", async () => {
    const { tenant } = await provisionTenant({ servers: [] });
    await runInDurableObject(tenantObject(tenant), async (_o: TenantDO, state) => {
      const log = new AuditLog(state.storage.sql);
      for (let i = 0; i < AUDIT_PAGE_ROWS + 250; i++) await log.append("test", "bulk.row", String(i), { i });
    });
    const { checkpoint } = await adminOk("POST", `/tenants/${tenant}/audit/checkpoints`, undefined, 201);
    expect(checkpoint.seq).toBeGreaterThan(AUDIT_PAGE_ROWS * 1.5);
    const exported = await exportSegment(tenant, checkpoint.seq);
    expect(exported.entries).toHaveLength(checkpoint.seq);
    expect(await verifyAuditChain(exported.entries, exported.segment.prevHash)).toEqual({ ok: true, entries: checkpoint.seq });
    expect(exported.entries.at(-1)!.hash).toBe(checkpoint.hash);
    expect(await adminOk("DELETE", `/tenants/${tenant}/audit?through=${checkpoint.seq}`)).toEqual({ dropped: checkpoint.seq, through: checkpoint.seq });
    expect(await adminOk("GET", `/tenants/${tenant}/audit/verify?from=start`)).toMatchObject({ ok: true });
  });

  it("platform:audit-retention — 1 200 rows are verified in pages of AUDIT_PAGE_ROWS, and a break past the first pages is found", async () => {
    const { tenant } = await provisionTenant({ servers: [] });
    await runInDurableObject(tenantObject(tenant), async (_o: TenantDO, state) => {
      const real = state.storage.sql;
      // Observe what each read of `audit` returns; the storage underneath is the real one.
      const reads: number[] = [];
      const observed = Object.create(real, {
        exec: {
          value: (query: string, ...bindings: unknown[]) => {
            const cursor = real.exec(query, ...bindings);
            if (!/^SELECT \* FROM audit\b/.test(query)) return cursor;
            const rows = cursor.toArray();
            reads.push(rows.length);
            return { toArray: () => rows, one: () => rows[0] };
          },
        },
      }) as SqlStorage;
      const storage = Object.create(state.storage, { sql: { value: observed } }) as DurableObjectStorage;
      storage.transactionSync = (fn) => state.storage.transactionSync(fn);
      const log = new AuditLog(observed);
      for (let i = 0; i < 1200; i++) await log.append("test", "bulk.row", String(i), { i });
      const total = real.exec<{ n: number }>("SELECT count(*) AS n FROM audit").one().n;
      expect(total).toBeGreaterThanOrEqual(1200);

      const verdict = await new AuditRetention(storage, log).verify("start");
      expect(verdict).toMatchObject({ ok: true, entries: total });
      expect(Math.max(...reads)).toBeLessThanOrEqual(AUDIT_PAGE_ROWS);
      expect(reads.length).toBeGreaterThanOrEqual(Math.ceil(total / AUDIT_PAGE_ROWS));

      // From a checkpoint, verification reads only what follows it.
      const retention = new AuditRetention(storage, log);
      const made = await retention.checkpoint();
      expect(made).toMatchObject({ ok: true, checkpoint: { seq: total } });
      for (let i = 0; i < 3; i++) await log.append("test", "after.checkpoint", String(i), {});
      reads.length = 0;
      expect(await retention.verify()).toMatchObject({ ok: true, entries: 4, from: total + 1, anchor: { seq: total } });
      expect(reads.reduce((a, b) => a + b, 0)).toBe(4);

      // Tampering below SQL in the third page is still found, at that entry.
      real.exec("DROP TRIGGER audit_is_append_only_update");
      real.exec("UPDATE audit SET detail = '{\"forged\":true}' WHERE seq = 1100");
      expect(await new AuditRetention(storage, log).verify("start")).toMatchObject({ ok: false, brokenAt: 1100 });
    });
  });
});
