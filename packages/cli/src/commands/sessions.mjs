/**
 * `smcp sessions ...` (but `events`, which has its own module for `--follow`): the
 * tenant's session index, one session's live view, its request log, and terminate.
 * Ids are printed whole: they are what a person copies into the next command.
 */
import { adminPath } from "../api.mjs";
import { bytes, duration, fields, plural, relativeTime, table, timestamp, truncate } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @param {any} info */
export const clientLabel = (info) => (info ? `${info.name ?? "?"} ${info.version ?? ""}`.trim() : "-");

/** @type {Command[]} */
export const sessionCommands = [
  {
    usage: "sessions ls <tenant>",
    summary: "the tenant's live sessions",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/sessions`);
      out.result(data, ({ sessions }) =>
        sessions.length === 0
          ? `tenant ${args.tenant} has no live sessions`
          : table(
              ["SESSION", "SERVER", "KEY", "PROTOCOL", "CLIENT", "CREATED", "ACTIVE", "EXPIRES"],
              sessions.map((/** @type {any} */ s) => [
                s.id,
                s.server,
                s.keyId,
                s.protocolVersion,
                clientLabel(s.clientInfo),
                relativeTime(s.createdAt, now()),
                relativeTime(s.lastActivity, now()),
                relativeTime(s.expiresAt, now()),
              ]),
            ),
      );
    },
  },
  {
    usage: "sessions show <tenant> <session>",
    summary: "one session: protocol, client, activity, alarm, event log",
    async run({ api, args, out, now }) {
      const view = await api.get(adminPath`/tenants/${args.tenant}/sessions/${args.session}`);
      out.result(view, (s) => {
        const log = s.eventLog ?? {};
        return fields([
          ["session", s.id],
          ["tenant", s.tenant],
          ["server", s.server],
          ["key", s.keyId ?? "none (public tenant)"],
          ["protocol", s.protocolVersion],
          ["client", clientLabel(s.clientInfo) + (s.clientInfo?.title ? ` (${s.clientInfo.title})` : "")],
          ["created", timestamp(s.createdAt, now())],
          ["last activity", timestamp(s.lastActivity, now())],
          ["expires", timestamp(s.expiresAt, now())],
          ["next alarm", s.nextAlarm === null ? "none" : timestamp(s.nextAlarm, now())],
          [
            "event log",
            `${plural(log.events ?? 0, "event")}, ${bytes(log.bytes ?? 0)}, last seq ${log.lastSeq ?? 0}` +
              (log.prunedThrough ? `, pruned through ${log.prunedThrough}` : ""),
          ],
        ]);
      });
    },
  },
  {
    usage: "sessions requests <tenant> <session> [--after N] [--limit N]",
    summary: "the session's request log: method, tool, status, duration",
    async run({ api, args, opts, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/sessions/${args.session}/requests`, { after: opts.after, limit: opts.limit });
      out.result(data, ({ requests }) =>
        requests.length === 0
          ? "no requests logged"
          : table(
              ["SEQ", "AT", "ID", "REQUEST", "STATUS", "TIME", "ERROR"],
              requests.map((/** @type {any} */ r) => [
                r.seq,
                relativeTime(r.at, now()),
                r.rpcId,
                r.tool ? `${r.method} ${r.tool}` : r.method,
                r.status,
                duration(r.durationMs),
                r.error ? truncate(r.error, 60) : "",
              ]),
            ),
      );
      if (!out.json && data.next !== null) out.note(`more: smcp sessions requests ${args.tenant} ${args.session} --after ${data.next}`);
    },
  },
  {
    usage: "sessions kill <tenant> <session>",
    summary: "terminate a session now; its client gets 404 next time",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/sessions/${args.session}`);
      out.result(done, (d) => `terminated ${d.terminated}`);
    },
  },
];
