/**
 * What an idle session costs: SQLite bytes and resident memory.
 *
 * Opens `idleSessions` sessions (initialize + initialized, nothing else) and
 * compares the server's resident memory before and after (for wrangler targets,
 * every workerd process it started; Durable Objects live there). SQLite bytes are
 * read from each new per-session database file the way SQLite counts them
 * (page_count x page_size, WAL included), plus the event-log bytes the SMCP admin
 * API reports. RSS moves in pages and with garbage collection: it is an estimate,
 * the same estimate for every target.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSession } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

function sqliteFiles(dir) {
  try {
    return new Set(readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite"));
  } catch {
    return new Set();
  }
}

function sqliteBytes(file) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const { page_count } = db.prepare("PRAGMA page_count").get();
    const { page_size } = db.prepare("PRAGMA page_size").get();
    return page_count * page_size;
  } finally {
    db.close();
  }
}

/**
 * @param {import("../lib/targets.mjs").Target} target
 * @param {Awaited<ReturnType<import("../lib/mcp-wire.mjs").captureTemplates>>} templates  session lane
 */
export async function idleFootprint(target, templates, plan) {
  await pool(4, 4, () => openSession(templates)); // first sessions pay for code loading, not per session
  await settle(1000);
  const filesBefore = sqliteFiles(target.sessionStoreDir);
  const rssBefore = target.rss();
  const sessions = await pool(plan.idleSessions, 4, () => openSession(templates));
  await settle(2000);
  const rssAfter = target.rss();

  const fresh = [...sqliteFiles(target.sessionStoreDir)].filter((f) => !filesBefore.has(f));
  const perFile = fresh.map((f) => sqliteBytes(path.join(target.sessionStoreDir, f)));
  const sample = sessions.slice(0, 10);
  const eventLog = target.eventLogBytes ? await Promise.all(sample.map((s) => target.eventLogBytes(s))) : [];
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return {
    sessions: sessions.length,
    rssBytesPerSession: (rssAfter - rssBefore) / sessions.length,
    sqliteBytesPerSession: target.sessionStoreDir ? mean(perFile) : null,
    sqliteFiles: fresh.length,
    eventLogBytesPerSession: mean(eventLog),
  };
}
