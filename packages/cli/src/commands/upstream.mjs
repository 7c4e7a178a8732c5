/**
 * `smcp upstream ...`: a server name that fronts a remote MCP server (the gateway):
 * its URL and headers (a header value may name a secret of the server as
 * `${secret:NAME}`, set with `smcp secrets set`), and its health: whether the last
 * probe (`initialize`, `tools/list`) got through, how long it took, the last error and
 * when the next probe runs.
 */
import { adminPath } from "../api.mjs";
import { UsageError } from "../errors.mjs";
import { fields, plural, relativeTime, timestamp } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

const SET_USAGE = "upstream set <tenant> <server> <url> [--header NAME=VALUE]...";

/**
 * `--header NAME=VALUE`, repeated; the platform checks the names and values.
 * @param {unknown} values
 * @returns {Record<string, string>}
 */
export function headersOf(values) {
  /** @type {Record<string, string>} */
  const headers = {};
  for (const pair of Array.isArray(values) ? values.map(String) : []) {
    const at = pair.indexOf("=");
    const name = at > 0 ? pair.slice(0, at).trim() : "";
    if (!name) throw new UsageError(`--header takes NAME=VALUE, not ${JSON.stringify(pair)}`, [`smcp ${SET_USAGE}`]);
    headers[name] = pair.slice(at + 1);
  }
  return headers;
}

/**
 * An upstream's configuration and health as lines for a person.
 * @param {any} u the answer of GET .../upstream
 * @param {number} now
 */
export function renderUpstream(u, now) {
  const h = u.health;
  const headerNames = Object.keys(u.headers ?? {});
  return fields([
    ["server", `${u.server}: fronts ${u.url}`],
    ["headers", headerNames.length ? headerNames.join(", ") : "none"],
    ["secrets", u.secrets?.length ? u.secrets.join(", ") : null],
    ...(h ? healthFields(h, now) : /** @type {[string, string][]} */ ([["health", "not known yet"]])),
  ]);
}

/**
 * @param {any} h a health view
 * @param {number} now
 * @returns {[string, string | number | null][]}
 */
export function healthFields(h, now) {
  const state =
    h.state === "unchecked"
      ? "not probed yet"
      : h.reachable
        ? `reachable: ${plural(h.tools ?? 0, "tool")}${h.protocolVersion ? `, protocol ${h.protocolVersion}` : ""}`
        : `UNREACHABLE (${plural(h.consecutiveFailures, "failure")} in a row)`;
  return [
    ["health", state],
    ["latency", h.latencyMs === null ? null : `${h.latencyMs} ms`],
    ["last error", h.lastError === null ? null : `${h.lastError} (${relativeTime(h.lastErrorAt, now)})`],
    ["last check", h.checkedAt === null ? "never" : timestamp(h.checkedAt, now)],
    ["last reachable", h.lastReachableAt === null ? null : timestamp(h.lastReachableAt, now)],
    ["next check", timestamp(h.nextCheckAt, now)],
  ];
}

/** @type {Command[]} */
export const upstreamCommands = [
  {
    usage: SET_USAGE,
    summary: "front a remote MCP server under a server name (a header value may be ${secret:NAME}); probed at once",
    async run({ api, args, opts, out }) {
      const body = { url: args.url, headers: headersOf(opts.header) };
      const done = await api.request("PUT", adminPath`/tenants/${args.tenant}/servers/${args.server}/upstream`, { body });
      out.result(done, (d) =>
        [
          `${args.tenant}/${d.server} now fronts ${d.url}: /mcp/${args.tenant}/${d.server}`,
          ...(d.secrets?.length ? [`its headers name the secrets ${d.secrets.join(", ")} (smcp secrets set ${args.tenant} ${d.server} NAME)`] : []),
          `its first probe runs now: smcp upstream show ${args.tenant} ${d.server}`,
        ].join("\n"),
      );
    },
  },
  {
    usage: "upstream show <tenant> <server>",
    summary: "an upstream's URL, headers and health: reachable, latency, tools, last error, last and next check",
    async run({ api, args, out, now }) {
      const u = await api.get(adminPath`/tenants/${args.tenant}/servers/${args.server}/upstream`);
      out.result(u, (d) => renderUpstream(d, now()));
    },
  },
  {
    usage: "upstream probe <tenant> <server>",
    summary: "probe an upstream now (initialize, tools/list) and print its health",
    async run({ api, args, out, now }) {
      const done = await api.post(adminPath`/tenants/${args.tenant}/servers/${args.server}/upstream/probe`);
      out.result(done, (d) => fields(healthFields(d.health, now())));
      return done.health.reachable ? 0 : 1;
    },
  },
  {
    usage: "upstream rm <tenant> <server>",
    summary: "stop fronting an upstream (the server is disabled; its secrets stay)",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/servers/${args.server}/upstream`);
      out.result(done, (d) => `${args.tenant}/${d.server} no longer fronts an upstream`);
    },
  },
];
