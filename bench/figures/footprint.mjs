/**
 * What an idle session costs: SQLite bytes and resident memory.
 *
 * `open()` creates one idle unit. For an MCP server, a session that was used and
 * then left alone (issue 18 item 4): initialize + initialized, ten calls of which one
 * is answered as SSE with notifications before its answer (`test_tool_with_progress`
 * with a progress token), one GET stream opened and closed, then idle past the
 * report interval (SMCP's REPORT_INTERVAL_MS, 5 s) plus settling. For the floor, a
 * Durable Object holding one row. The figure compares the server's resident memory
 * before and after `idleSessions` of them, measured after a warm-up batch of the same
 * size (for wrangler targets, the workerd process
 * that runs the worker and its Durable Objects). SQLite bytes are read from each new per-object database file the
 * way SQLite counts them (page_count x page_size, WAL included), plus the
 * event-log bytes the SMCP admin API reports. RSS moves in pages and with garbage
 * collection: it is an estimate, the same estimate for every target. The JavaScript
 * heap after a full collection (bench/lib/js-heap.mjs) is what the worker's own objects
 * keep per idle unit, apart from workerd's native per-object memory.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { callTool, headersOf, openSession, openStream, sseEvents } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

/** SMCP's REPORT_INTERVAL_MS (workers/smcp/src/session-do.ts): an idle session is one left alone longer. */
const REPORT_INTERVAL_MS = 5_000;
const CALLS = 10;
/** The warm-up batch's ceiling: the 10 000-session cost curve warms up with this many. */
const WARMUP_MAX = 200;

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
 * @param {{ jsHeap?: boolean }} [options]  also read the JS heap per unit (the idle-footprint figure only)
 */
export async function idleFootprint(target, open, plan, { jsHeap = false } = {}) {
  // Opt-in: a heap snapshot while Worker Loader isolates are live has hung workerd.
  const readHeap = jsHeap ? () => target.jsHeap?.() : async () => undefined;
  // A warm-up batch as large as the measured one (at most WARMUP_MAX), left idle the same
  // way: the isolate's code, JIT and heap reach their working size before the baseline,
  // so the difference counts what each further idle unit keeps, not one-time growth.
  await pool(Math.min(plan.idleSessions, WARMUP_MAX), 4, (i) => open(-1 - i));
  await settle(REPORT_INTERVAL_MS + 2 * plan.settleMs);
  const filesBefore = sqliteFiles(target.sessionStoreDir);
  const rssBefore = target.rss();
  const heapBefore = await readHeap();
  const sessions = await pool(plan.idleSessions, 4, open);
  await settle(REPORT_INTERVAL_MS + 2 * plan.settleMs);
  // Each RSS reading comes before its heap reading (a full collection and a snapshot):
  // what the first snapshot leaves behind can only add to the second RSS reading, so the
  // collection never makes the RSS figure look smaller than it is.
  const rssAfter = target.rss();
  const heapAfter = await readHeap();

  const fresh = [...sqliteFiles(target.sessionStoreDir)].filter((f) => !filesBefore.has(f));
  const perFile = fresh.map((f) => sqliteBytes(path.join(target.sessionStoreDir, f))).filter((b) => b !== null);
  const eventLog = target.eventLogBytes ? await Promise.all(sessions.slice(0, 10).map((s) => target.eventLogBytes(s))) : [];
  return {
    sessions: sessions.length,
    rssBytesPerSession: (rssAfter - rssBefore) / sessions.length,
    jsHeapBytesPerSession: heapBefore != null && heapAfter != null ? (heapAfter - heapBefore) / sessions.length : null,
    sqliteBytesPerSession: target.sessionStoreDir ? mean(perFile) : null,
    sqliteFiles: fresh.length,
    eventLogBytesPerSession: mean(eventLog),
  };
}

/**
 * An MCP server's idle unit: a session used as the scenario says, on the server of
 * `tools.streamed`, with `tools.echo` for the plain calls when it is on the same
 * server (SMCP's stand-in `test_simple_text` is; the peers have one server).
 * @param {import("../lib/targets.mjs").Target} target
 */
export const usedSession = (target, templates) => async () => {
  const { echo, trigger, streamed } = target.tools;
  const plain = echo.url === streamed.url ? echo : trigger;
  const sessionId = await openSession(templates);
  for (let i = 1; i < CALLS; i++) await callTool(templates, sessionId, i, plain);
  await streamedCall(templates, sessionId, CALLS, streamed);
  const stream = new AbortController();
  const res = await openStream(templates, sessionId, { signal: stream.signal });
  if (!res.ok) throw new Error(`GET stream answered ${res.status}`);
  stream.abort();
  await res.body?.cancel().catch(() => {});
  return sessionId;
};

/** A call with a progress token: its answer must come as SSE, after at least one notification. */
async function streamedCall(templates, sessionId, id, tool) {
  const { body } = templates.call;
  const res = await fetch(templates.url, {
    method: "POST",
    headers: headersOf(templates.call, sessionId, tool.name),
    body: JSON.stringify({ ...body, id, params: { ...body.params, name: tool.name, arguments: tool.args, _meta: { ...body.params._meta, progressToken: `idle-${id}` } } }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    throw new Error(`${tool.name} answered ${res.status} ${res.headers.get("content-type")}, not an SSE stream`);
  }
  let notifications = 0;
  for await (const event of sseEvents(res)) {
    if (!event.data) continue;
    const message = JSON.parse(event.data);
    if (message.id === undefined) notifications++;
    else if (message.id === id) {
      if (message.error || notifications === 0) throw new Error(`${tool.name} answered without a notification before it: ${event.data.slice(0, 200)}`);
      return;
    }
  }
  throw new Error(`${tool.name}'s stream ended without its answer`);
}

/** The floor's idle unit: a Durable Object with one row. */
export const floorObject = (target) => async (i) => {
  const res = await fetch(`${target.url}/?object=idle-${i}`, { method: "POST", body: '{"title":"idle","body":"one row"}' });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`floor answered ${res.status}`);
  return `idle-${i}`;
};
