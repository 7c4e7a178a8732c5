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
  const errors = new Map(); // kind of failure -> { count, first example }
  const note = (stage) => (err) => {
    const message = `${stage}: ${err?.message ?? err}`;
    const kind = message.replace(/[0-9.]+ s\b/g, "N s");
    errors.set(kind, { count: (errors.get(kind)?.count ?? 0) + 1, example: errors.get(kind)?.example ?? message });
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
    const opened = performance.now();
    (async () => {
      for await (const _chunk of stream.body) {
      }
    })()
      .catch((err) => err)
      .then((err) => {
        if (controller.signal.aborted) return;
        state.open = false;
        note("GET stream")(`closed by the server after ${((performance.now() - opened) / 1000).toFixed(1)} s${err ? ` (${err.message})` : ""}`);
      });
    return state;
  });
  const openedIn = (performance.now() - t0) / 1000;
  const live = held.filter(Boolean);
  const called = await pool(live.length, 16, (i) =>
    callTool(templates, live[i].sessionId, i + 1, tool).then(() => true, note("tools/call")),
  );
  const stillOpen = live.filter((s, i) => s.open && called[i]).length;
  controller.abort();
  const failures = [...errors.values()].sort((a, b) => b.count - a.count).map((e) => `${e.count}× ${e.example}`);
  return { sessions: n, held: stillOpen, errors: n - stillOpen, openedIn, failures };
}
