/**
 * What an idle session costs: SQLite bytes and resident memory.
 *
 * `open()` creates one idle unit: for an MCP server a session (initialize +
 * initialized, nothing else), for the floor a Durable Object holding one row. The
 * figure compares the server's resident memory before and after `idleSessions` of
 * them (for wrangler targets, the workerd process that runs the worker and its
 * Durable Objects). SQLite bytes are read from each new per-object database file the
 * way SQLite counts them (page_count x page_size, WAL included), plus the
 * event-log bytes the SMCP admin API reports. RSS moves in pages and with garbage
 * collection: it is an estimate, the same estimate for every target.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pool } from "../lib/pool.mjs";

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

function sqliteFiles(dir) {
  try {
    return new Set(readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite"));
  } catch {
    return new Set();
  }
}

/** A database workerd is writing at this moment is locked: it is left out of the mean (null). */
function sqliteBytes(file) {
  let db;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch {
    return null;
  }
  try {
    const { page_count } = db.prepare("PRAGMA page_count").get();
    const { page_size } = db.prepare("PRAGMA page_size").get();
    return page_count * page_size;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * @param {import("../lib/targets.mjs").Target} target
 * @param {(i: number) => Promise<string>} open  creates one idle session; resolves to its id
 */
export async function idleFootprint(target, open, plan) {
  await pool(4, 4, (i) => open(-1 - i)); // the first ones pay for code loading, not per session
  await settle(plan.settleMs);
  const filesBefore = sqliteFiles(target.sessionStoreDir);
  const rssBefore = target.rss();
  const sessions = await pool(plan.idleSessions, 4, open);
  await settle(2 * plan.settleMs);
  const rssAfter = target.rss();

  const fresh = [...sqliteFiles(target.sessionStoreDir)].filter((f) => !filesBefore.has(f));
  const perFile = fresh.map((f) => sqliteBytes(path.join(target.sessionStoreDir, f))).filter((b) => b !== null);
  const eventLog = target.eventLogBytes ? await Promise.all(sessions.slice(0, 10).map((s) => target.eventLogBytes(s))) : [];
  return {
    sessions: sessions.length,
    rssBytesPerSession: (rssAfter - rssBefore) / sessions.length,
    sqliteBytesPerSession: target.sessionStoreDir ? mean(perFile) : null,
    sqliteFiles: fresh.length,
    eventLogBytesPerSession: mean(eventLog),
  };
}

/** The floor's idle unit: a Durable Object with one row. */
export const floorObject = (target) => async (i) => {
  const res = await fetch(`${target.url}/?object=idle-${i}`, { method: "POST", body: '{"title":"idle","body":"one row"}' });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`floor answered ${res.status}`);
  return `idle-${i}`;
};
