/**
 * `smcp audit`: the tenant's hash-chained audit log, or with `--verify` the
 * platform's check of the chain (from the last checkpoint, or `--from start`). A
 * broken chain exits 1, so scripts and cron can alert on it without parsing the output.
 *
 * Retention: `audit checkpoint` records a verified point of the chain; `audit export`
 * saves the segment through a checkpoint to a file and checks it offline before
 * saying it is saved; `audit drop` removes that exported segment from the platform;
 * `audit verify-file` re-checks a saved export at any time, without the platform.
 */
import { readFile, writeFile } from "node:fs/promises";
import { adminPath } from "../api.mjs";
import { verifyExport } from "../audit-chain.mjs";
import { CliError } from "../errors.mjs";
import { relativeTime, table, truncate } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command} */
export const auditCommand = {
  usage: "audit <tenant> [--verify] [--from checkpoint|start] [--after N] [--limit N]",
  summary: "the tenant's audit log (admin and auth events); --verify checks its hash chain",
  async run({ api, args, opts, out, now }) {
    if (opts.verify) {
      const verdict = await api.get(adminPath`/tenants/${args.tenant}/audit/verify`, { from: opts.from });
      const since = verdict.anchor?.seq ? ` since entry ${verdict.anchor.seq}` : "";
      out.result(verdict, (v) =>
        v.ok
          ? `audit chain of ${args.tenant} is intact${since}: ${v.entries} entries`
          : `audit chain of ${args.tenant} is BROKEN at entry ${v.brokenAt} (${v.entries} entries checked${since}): ${v.reason}`,
      );
      return verdict.ok ? 0 : 1;
    }
    const data = await api.get(adminPath`/tenants/${args.tenant}/audit`, { after: opts.after, limit: opts.limit });
    out.result(data, ({ entries }) =>
      entries.length === 0
        ? "no audit entries"
        : table(
            ["SEQ", "AT", "ACTOR", "ACTION", "TARGET", "DETAIL"],
            entries.map((/** @type {any} */ e) => [e.seq, relativeTime(e.at, now()), e.actor, e.action, e.target, detailText(e.detail)]),
          ),
    );
    if (!out.json && data.next !== null) out.note(`more: smcp audit ${args.tenant} --after ${data.next}`);
  },
};

/** @type {Command[]} */
export const auditRetentionCommands = [
  {
    usage: "audit checkpoint <tenant>",
    summary: "verify the audit chain since the last checkpoint and record a checkpoint at its end",
    async run({ api, args, out }) {
      const { checkpoint } = await api.post(adminPath`/tenants/${args.tenant}/audit/checkpoints`);
      out.result({ checkpoint }, () => `checkpoint at entry ${checkpoint.seq} (${checkpoint.hash.slice(0, 16)}…)`);
    },
  },
  {
    usage: "audit checkpoints <tenant>",
    summary: "the audit checkpoints, newest first, and how far the log was exported and dropped",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/audit/checkpoints`);
      out.result(data, ({ checkpoints, retention }) =>
        [
          `exported through ${retention.exportedThrough}, dropped through ${retention.droppedThrough}`,
          checkpoints.length === 0
            ? "no checkpoints"
            : table(["SEQ", "AT", "HASH"], checkpoints.map((/** @type {any} */ c) => [c.seq, relativeTime(c.at, now()), c.hash])),
        ].join("\n"),
      );
    },
  },
  {
    usage: "audit export <tenant> [--through N] [--out FILE]",
    summary: "save the audit segment through a checkpoint (with its hashes) and check it offline",
    async run({ api, args, opts, out }) {
      if (opts.through === undefined) throw new CliError("--through N is needed: the seq of a checkpoint (smcp audit checkpoints <tenant>)");
      const data = await api.get(adminPath`/tenants/${args.tenant}/audit/export`, { through: opts.through });
      const verdict = verifyExport(data);
      if (!verdict.ok) throw new CliError(`the export of ${args.tenant} does not verify at entry ${verdict.brokenAt}: ${verdict.reason}; not saved`);
      const text = `${JSON.stringify(data)}\n`;
      if (opts.out) {
        await writeFile(String(opts.out), text);
        out.note(`saved entries ${data.segment.from}..${data.segment.through} of ${args.tenant} to ${opts.out}; chain verified`);
      } else {
        out.line(text.trimEnd());
      }
    },
  },
  {
    usage: "audit drop <tenant> [--through N]",
    summary: "remove the exported audit segment through a checkpoint from the platform",
    async run({ api, args, opts, out }) {
      if (opts.through === undefined) throw new CliError("--through N is needed: the checkpoint an export ended at");
      const result = await api.request("DELETE", adminPath`/tenants/${args.tenant}/audit`, { query: { through: opts.through } });
      out.result(result, (r) => `dropped ${r.dropped} audit entries of ${args.tenant} through ${r.through}`);
    },
  },
  {
    usage: "audit verify-file <file>",
    summary: "check a saved audit export offline (no platform needed)",
    async run({ args, out }) {
      let data;
      try {
        data = JSON.parse(await readFile(args.file, "utf8"));
      } catch (err) {
        throw new CliError(`cannot read ${args.file} as an audit export: ${String(/** @type {Error} */ (err).message)}`);
      }
      const verdict = verifyExport(data);
      out.result(verdict, (v) =>
        v.ok
          ? `${args.file}: entries ${data.segment.from}..${data.segment.through} of ${data.tenant} verify (${v.entries} entries)`
          : `${args.file}: BROKEN at entry ${v.brokenAt}: ${v.reason}`,
      );
      return verdict.ok ? 0 : 1;
    },
  },
];

/** `{"server":"notes"}` as `server=notes`: the detail is stored as JSON text. */
function detailText(/** @type {unknown} */ detail) {
  let value = detail;
  try {
    if (typeof detail === "string") value = JSON.parse(detail);
  } catch {}
  if (value === null || typeof value !== "object") return truncate(String(value ?? ""), 60);
  return truncate(Object.entries(value).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" "), 60);
}
