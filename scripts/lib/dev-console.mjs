// The `pnpm dev` console is for a person: the Worker's JSON log lines become one short
// line each (time, method, tenant/server, JSON-RPC method and tool, status, duration),
// wrangler's own per-request lines are dropped because ours say more, and everything
// else passes through unchanged. wrangler prints the Worker's console.warn/error lines
// inside its own coloured "▲ [WARNING]" / "✘ [ERROR]" box followed by blank lines: the
// JSON is taken out of the box and blank lines are dropped, so a tenant's failing tool
// is one line like any other event.

/** wrangler's own access-log line, e.g. `[wrangler:info] GET /healthz 200 OK (8ms)`. */
const WRANGLER_REQUEST = /^\[wrangler:info\] (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ \d{3} /;

/** ANSI colour and style codes. */
const ANSI = /\u001b\[[0-9;]*m/g;
/** wrangler's box around a Worker's console.warn / console.error line. */
const WRANGLER_BOXED = /^(?:▲|✘) \[(?:WARNING|ERROR)\] (\{.*\})\s*$/;

/** The line to print for one line of wrangler's output, or null to print nothing. */
export function formatDevLine(line) {
  if (WRANGLER_REQUEST.test(line)) return null;
  const bare = line.replace(ANSI, "");
  if (bare.trim() === "") return null;
  const json = bare.startsWith("{") ? bare : WRANGLER_BOXED.exec(bare)?.[1];
  if (json === undefined) return line;
  let event;
  try {
    event = JSON.parse(json);
  } catch {
    return line;
  }
  if (typeof event !== "object" || event === null || typeof event.msg !== "string") return line;
  const time = typeof event.ts === "string" ? event.ts.slice(11, 19) : "";
  if (event.msg === "request") return [time, requestSummary(event)].filter(Boolean).join("  ");
  const { ts: _ts, level, msg, ...fields } = event;
  const detail = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return [time, level === "info" ? "" : level.toUpperCase(), msg, detail].filter(Boolean).join("  ");
}

function requestSummary(e) {
  const where = e.tenant && e.server ? `/mcp/${e.tenant}/${e.server}` : (e.path ?? "");
  const call = [e.rpcMethod, e.tool].filter(Boolean).join(" ");
  const session = e.session ? `session ${String(e.session).slice(0, 8)}…` : "";
  return [e.method, where, call, String(e.status), `${e.durationMs} ms`, session].filter(Boolean).join("  ");
}
