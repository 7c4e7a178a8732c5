/**
 * `smcp audit`: the tenant's hash-chained audit log, or with `--verify` the
 * platform's check of the chain. A broken chain exits 1, so scripts and cron can
 * alert on it without parsing the output.
 */
import { adminPath } from "../api.mjs";
import { relativeTime, table, truncate } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command} */
export const auditCommand = {
  usage: "audit <tenant> [--verify] [--after N] [--limit N]",
  summary: "the tenant's audit log (admin and auth events); --verify checks its hash chain",
  async run({ api, args, opts, out, now }) {
    if (opts.verify) {
      const verdict = await api.get(adminPath`/tenants/${args.tenant}/audit/verify`);
      out.result(verdict, (v) =>
        v.ok
          ? `audit chain of ${args.tenant} is intact: ${v.entries} entries`
          : `audit chain of ${args.tenant} is BROKEN at entry ${v.brokenAt} of ${v.entries}: ${v.reason}`,
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

/** `{"server":"notes"}` as `server=notes`: the detail is stored as JSON text. */
function detailText(/** @type {unknown} */ detail) {
  let value = detail;
  try {
    if (typeof detail === "string") value = JSON.parse(detail);
  } catch {}
  if (value === null || typeof value !== "object") return truncate(String(value ?? ""), 60);
  return truncate(Object.entries(value).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" "), 60);
}
