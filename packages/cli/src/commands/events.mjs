/**
 * `smcp sessions events`: a session's SSE event log, one summarised message a line.
 * With `--follow` it polls the admin API (there is no push channel for admins, and a
 * poll every second is cheap next to an SSE connection the platform would have to
 * hold) and pages with `after`, so nothing is printed twice or skipped. It stops on
 * Ctrl+C or when the session it was following ends (404), both clean exits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { adminPath } from "../api.mjs";
import { ApiError } from "../errors.mjs";
import { bytes, clock, relativeTime, table } from "../format.mjs";
import { summarizeMessage } from "../summarize.mjs";

/** @typedef {import("./context.mjs").Command} Command */

const POLL_MS = 1000;
const GET_STREAM = "_GET_stream";

/** The stream an event went out on: `GET` for the standalone stream, else the POST stream's id, shortened. */
const streamLabel = (/** @type {string} */ id) => (id === GET_STREAM ? "GET" : id.slice(0, 8));

/** @type {Command} */
export const eventsCommand = {
  usage: "sessions events <tenant> <session> [--after N] [--limit N] [--follow]",
  summary: "the session's SSE event log; --follow prints new events as they arrive",
  async run(ctx) {
    if (ctx.opts.follow) return follow(ctx);
    const { api, args, opts, out, now } = ctx;
    const data = await api.get(adminPath`/tenants/${args.tenant}/sessions/${args.session}/events`, { after: opts.after, limit: opts.limit });
    out.result(data, ({ events }) =>
      events.length === 0
        ? "no events logged"
        : table(
            ["SEQ", "AGE", "STREAM", "SIZE", "MESSAGE"],
            events.map((/** @type {any} */ e) => [e.seq, relativeTime(e.createdAt, now()), streamLabel(e.streamId), bytes(e.bytes), summarizeMessage(e.message)]),
          ),
    );
    if (!out.json && data.next !== null) out.note(`more: smcp sessions events ${args.tenant} ${args.session} --after ${data.next}`);
  },
};

/**
 * Prints the backlog after `--after`, then new events until interrupted or the session
 * ends. Under `--json` each event is one JSON line, for `jq` and friends.
 * @param {import("./context.mjs").Context} ctx
 */
async function follow({ api, args, opts, out, interrupt }) {
  const signal = interrupt();
  const path = adminPath`/tenants/${args.tenant}/sessions/${args.session}/events`;
  let after = opts.after ?? 0;
  let found = false;
  let caughtUp = false;
  while (!signal.aborted) {
    let page;
    try {
      page = await api.get(path, { after, limit: opts.limit }, signal);
    } catch (err) {
      if (signal.aborted) break;
      // A 404 before the first page is a wrong id (an error); after it, the session ended.
      if (found && err instanceof ApiError && err.status === 404) {
        out.note(`session ${args.session} has ended`);
        break;
      }
      throw err;
    }
    found = true;
    for (const event of page.events) {
      out.line(out.json ? JSON.stringify(event) : eventLine(event));
      after = event.seq;
    }
    if (page.next !== null) continue;
    if (!caughtUp) {
      caughtUp = true;
      out.note("-- waiting for new events; Ctrl+C to stop --");
    }
    await sleep(POLL_MS, undefined, { signal }).catch(() => {});
  }
}

/** @param {any} event */
function eventLine(event) {
  return `${String(event.seq).padStart(5)}  ${clock(event.createdAt)}  ${streamLabel(event.streamId).padEnd(8)}  ${summarizeMessage(event.message)}`;
}
