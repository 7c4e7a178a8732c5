/**
 * `tools/call` throughput and latency on one lane: the SDK client's own request,
 * replayed by autocannon. On the session lane every connection drives its own
 * session (opened beforehand, as a client would), so the figure includes the
 * per-session object a platform keeps; on the stateless lane every request stands
 * alone.
 */
import { measureLoad } from "../lib/load.mjs";
import { callBody, callTool, headersOf, openSession } from "../lib/mcp-wire.mjs";
import { pool } from "../lib/pool.mjs";

/**
 * @param {import("../lib/targets.mjs").ToolRef} tool
 * @param {Awaited<ReturnType<import("../lib/mcp-wire.mjs").captureTemplates>>} templates
 * @param {() => { runtime: number, total: number }} [cpu]  the server's CPU seconds so far
 */
export async function toolsCallLoad(tool, templates, plan, cpu) {
  const sessions = templates.lane === "session" ? await pool(plan.connections, 4, () => openSession(templates)) : [];
  return measureLoad({
    url: tool.url,
    connections: plan.connections,
    duration: plan.duration,
    warmup: plan.warmup,
    headersFor: (i) => headersOf(templates.call, sessions[i % sessions.length], tool.name),
    body: (seq) => callBody(templates, seq, tool),
    cpu,
  });
}

/**
 * Gives a notes store the same corpus on every target before the search figure:
 * `size` notes, one in forty mentioning the needle, so every search scans the same
 * rows and returns the same handful.
 */
export async function seedNotes(addTool, templates, size) {
  const sessionId = templates.lane === "session" ? await openSession(templates) : undefined;
  await pool(size, 4, (i) =>
    callTool(templates, sessionId, i + 1, {
      name: addTool.name,
      args: { title: `note ${i}`, body: i % 40 === 0 ? `note ${i} hides the needle` : `note ${i} is plain` },
    }),
  );
}
