/**
 * Report shards (src/tenant/report-shard-do.ts) with real objects: sessions report to
 * their shard, the shards flush one batch each to the tenant, and the tenant's figures
 * (sessions, requests, errors, metrics) come out as the sessions counted them, once —
 * also when a flush is re-driven after the tenant applied it, and when a session ends
 * while its shard still holds its deltas. Alarms are run by the test instead of waited for.
 */
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FLUSH_INTERVAL_MS, type ReportShardDO } from "../src/tenant/report-shard-do";
import type { TenantDO } from "../src/tenant-do";
import {
  ADMIN_TOKEN,
  ORIGIN,
  callTool,
  flushReports,
  mcpUrl,
  openSession,
  provisionTenant,
  reportShards,
  send,
  sessionStub,
  storageOf,
  tenantObject,
  type Session,
} from "./helpers";

const stats = (tenant: string) => tenantObject(tenant).stats().then((s) => s!);

async function scrapeAddNotes(tenant: string): Promise<number> {
  const res = await SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const prefix = `smcp_requests_total{tenant="${tenant}",server="notes",method="tools/call",tool="add_note"} `;
  const line = (await res.text()).split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}

/** Opens `n` sessions and calls add_note once in each. */
async function busySessions(tenant: string, key: string, n: number): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let i = 0; i < n; i++) {
    const session = await openSession(mcpUrl(tenant, "notes"), key);
    await callTool(session, "add_note", { title: `t${i}`, body: "b" });
    sessions.push(session);
  }
  return sessions;
}

describe("report shards", () => {
  it("platform:report-shards — many sessions' reports reach the tenant as one batch per shard, their totals and metrics exact", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "shard", servers: ["notes"] });
    const sessions = await busySessions(tenant, key!, 12);
    const before = (await stats(tenant)).reportCalls;
    for (const s of sessions) await runDurableObjectAlarm(sessionStub(tenant, "notes", s.sessionId));
    // The alarm runs make no tenant call: they reach it with the reports they sent, at the shards' flush.
    expect((await stats(tenant)).alarms).toBe(0);
    const flushed = await flushReports(tenant);
    const after = await stats(tenant);
    expect(after.alarms).toBe(12);
    // Twelve reports, at most one tenant call per shard (of the 4 configured) that holds any.
    expect(flushed).toBeGreaterThan(0);
    expect(after.reportCalls - before).toBeLessThanOrEqual(flushed);
    expect(after.reportCalls - before).toBeLessThan(sessions.length);
    expect(after.sessions).toBe(12);
    // initialize and add_note in each session.
    expect(after.requests).toBe(24);
    expect(after.errors).toBe(0);
    expect(await scrapeAddNotes(tenant)).toBe(12);
    // Each index row holds its session's totals and the seq of its report.
    const rows = await runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) =>
      state.storage.sql.exec<{ requests: number; report_seq: number }>("SELECT requests, report_seq FROM sessions").toArray().map((r) => ({ ...r })),
    );
    expect(rows).toEqual(sessions.map(() => ({ requests: 2, report_seq: 1 })));
    // Nothing is pending: another round of alarms sends nothing and changes nothing.
    for (const s of sessions) await runDurableObjectAlarm(sessionStub(tenant, "notes", s.sessionId));
    await flushReports(tenant);
    expect((await stats(tenant)).requests).toBe(24);
    expect(await scrapeAddNotes(tenant)).toBe(12);
    // Those runs wait for each session's next report (an alarm run alone does not make one due).
    expect((await stats(tenant)).alarms).toBe(12);
    // A shard that flushed keeps its rows and a late alarm (their expiry); a new report brings the flush back within the interval.
    const [first] = sessions;
    await callTool(first!, "add_note", { title: "again", body: "b" });
    const reportedAt = Date.now();
    await runDurableObjectAlarm(sessionStub(tenant, "notes", first!.sessionId));
    const alarms = await Promise.all(reportShards(tenant).map((shard) => runInDurableObject(shard, (_i: ReportShardDO, state) => state.storage.getAlarm())));
    const soonest = Math.min(...alarms.filter((a): a is number => a !== null));
    expect(soonest).toBeLessThanOrEqual(Date.now() + FLUSH_INTERVAL_MS);
    expect(soonest).toBeGreaterThanOrEqual(reportedAt);
    await flushReports(tenant);
    expect((await stats(tenant)).requests).toBe(25);
    expect(await scrapeAddNotes(tenant)).toBe(13);
    // The first session's report carried its three runs; the tenant added the two it had not seen.
    expect((await stats(tenant)).alarms).toBe(14);
    // Its end carries the runs the others' rows have not seen yet: one each, counted once.
    for (const s of sessions.slice(1)) {
      const deleted = await send(s, undefined, { method: "DELETE" });
      expect(deleted.status).toBe(200);
      await deleted.body?.cancel();
    }
    expect((await stats(tenant)).alarms).toBe(25);
  });

  it("platform:report-shards — a flush re-driven after the tenant applied it (its answer lost) counts nothing twice", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "shardre", servers: ["notes"] });
    const sessions = await busySessions(tenant, key!, 6);
    for (const s of sessions) await runDurableObjectAlarm(sessionStub(tenant, "notes", s.sessionId));
    for (const shard of reportShards(tenant)) {
      const batch = await runInDurableObject(shard, (instance: ReportShardDO) => instance.outboxBatch());
      if (!batch) continue;
      // The tenant applies the batch; the shard never hears of it, so its outbox stays and the alarm sends it again.
      expect((await tenantObject(tenant).applyReportBatch(batch)).duplicate).toBe(false);
      expect(await runDurableObjectAlarm(shard)).toBe(true);
      const outbox = await runInDurableObject(shard, (_i: ReportShardDO, state) => state.storage.sql.exec("SELECT id FROM outbox").toArray());
      expect(outbox).toEqual([]);
      // The same batch once more: acknowledged as a duplicate, applied not at all.
      expect(await tenantObject(tenant).applyReportBatch(batch)).toEqual({ ok: true, duplicate: true, unknown: [] });
    }
    const after = await stats(tenant);
    expect(after.requests).toBe(12);
    expect(await scrapeAddNotes(tenant)).toBe(6);
    const applied = await runInDurableObject(tenantObject(tenant), (_i: TenantDO, state) => state.storage.sql.exec("SELECT shard, seq FROM report_batches").toArray());
    expect(applied.length).toBeGreaterThan(0);
  });

  it("platform:report-shards — a session that ends while its shard holds its report (pending or in flight) leaves exact totals, and its row goes", async () => {
    const { tenant, key } = await provisionTenant({ prefix: "shardend", servers: ["notes"] });
    const [a, b] = await busySessions(tenant, key!, 2);
    for (const s of [a!, b!]) await runDurableObjectAlarm(sessionStub(tenant, "notes", s.sessionId));
    // a's report frozen into an outbox batch that has not reached the tenant; b's still pending.
    for (const shard of reportShards(tenant)) await runInDurableObject(shard, (instance: ReportShardDO) => instance.outboxBatch());
    await callTool(b!, "add_note", { title: "late", body: "b" });
    for (const s of [a!, b!]) expect((await send(s, undefined, { method: "DELETE" })).status).toBe(200);
    // Complete at the end, before any flush: 2 + 2 + one more add_note.
    const ended = await stats(tenant);
    expect(ended.sessions).toBe(0);
    expect(ended.requests).toBe(5);
    expect(await scrapeAddNotes(tenant)).toBe(3);
    // The batch in flight arrives afterwards and adds nothing; the shards forget both sessions and then their storage.
    await flushReports(tenant);
    expect((await stats(tenant)).requests).toBe(5);
    expect(await scrapeAddNotes(tenant)).toBe(3);
    for (const shard of reportShards(tenant)) {
      await runDurableObjectAlarm(shard);
      expect((await storageOf(shard)).kvKeys).toEqual([]);
    }
    // A shard that started over still gets its batches applied (its batch seqs stay above the ones the tenant saw).
    const later = await busySessions(tenant, key!, 8);
    for (const s of later) await runDurableObjectAlarm(sessionStub(tenant, "notes", s.sessionId));
    await flushReports(tenant);
    expect((await stats(tenant)).requests).toBe(5 + 16);
    expect(await scrapeAddNotes(tenant)).toBe(3 + 8);
  });
});
