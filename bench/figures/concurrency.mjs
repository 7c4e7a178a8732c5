/**
 * Many sessions open at once: `concurrentSessions` sessions, each holding its
 * standalone GET stream open, and, while all are held, one `tools/call` on every
 * session. A session counts as held when its handshake, its stream and its call
 * all succeeded and its stream was still open at the end.
 */
import { callTool, openSession, openStream } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

/**
 * @param {import("../lib/targets.mjs").ToolRef} tool
 * @param {Awaited<ReturnType<import("../lib/mcp-wire.mjs").captureTemplates>>} templates  session lane
 */
export async function concurrentSessions(tool, templates, plan) {
  const n = plan.concurrentSessions;
  const errors = [];
  const note = (stage) => (err) => {
    errors.push(`${stage}: ${err?.message ?? err}`);
    return null;
  };
  const t0 = performance.now();
  const controller = new AbortController();
  const held = await pool(n, 16, async (i) => {
    const sessionId = await openSession(templates).catch(note("initialize"));
    if (!sessionId) return null;
    const stream = await openStream(templates, sessionId, { signal: controller.signal }).catch(note("GET stream"));
    if (!stream?.ok) return stream && note("GET stream")(`status ${stream.status}`);
    const state = { sessionId, open: true };
    // Drain the stream in the background; it must stay open until we abort it.
    (async () => {
      for await (const _chunk of stream.body) {
      }
    })()
      .catch(() => {})
      .finally(() => (state.open = controller.signal.aborted ? state.open : false));
    return state;
  });
  const openedIn = (performance.now() - t0) / 1000;
  const live = held.filter(Boolean);
  const called = await pool(live.length, 16, (i) =>
    callTool(templates, live[i].sessionId, i + 1, tool).then(() => true, note("tools/call")),
  );
  const stillOpen = live.filter((s, i) => s.open && called[i]).length;
  controller.abort();
  return { sessions: n, held: stillOpen, errors: n - stillOpen, openedIn, firstErrors: errors.slice(0, 3) };
}
