/** `smcp servers ...`: which MCP servers a tenant exposes at /mcp/{tenant}/{server}, and its deployed ones' versions. */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";
import { renderUpstream } from "./upstream.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const serverCommands = [
  {
    usage: "servers ls <tenant>",
    summary: "the platform's servers and which the tenant has enabled",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/servers`);
      out.result(data, ({ servers, available }) => {
        const enabled = new Map(servers.map((/** @type {any} */ s) => [s.name, s.enabledAt]));
        const names = [...new Set([...available, ...enabled.keys()])].sort();
        return table(
          ["SERVER", "STATUS", "SINCE"],
          names.map((name) => (enabled.has(name) ? [name, "enabled", relativeTime(enabled.get(name), now())] : [name, "off", ""])),
        );
      });
    },
  },
  {
    usage: "servers enable <tenant> <server>",
    summary: "expose a server to the tenant",
    async run({ api, args, out }) {
      const done = await api.put(adminPath`/tenants/${args.tenant}/servers/${args.server}`);
      out.result(done, (d) => `enabled ${d.server} for ${args.tenant}: /mcp/${args.tenant}/${d.server}`);
    },
  },
  {
    usage: "servers disable <tenant> <server>",
    summary: "stop exposing a server to the tenant",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/servers/${args.server}`);
      out.result(done, (d) => `disabled ${d.server} for ${args.tenant}`);
    },
  },
  {
    usage: "servers show <tenant> <server>",
    summary: "one server: its kind, version, tools, error rate, last errors and recent console output",
    async run({ api, args, out, now }) {
      const s = await api.get(adminPath`/tenants/${args.tenant}/servers/${args.server}`);
      out.result(s, (d) => {
        if (d.kind === "built-in") return `${d.server}: built-in, ${d.enabled ? "enabled" : "off"}`;
        if (d.kind === "upstream") return `${renderUpstream(d, now())}\nstatus  ${d.status}`;
        const what = d.format === "sdk" ? `SDK server (${d.bundle?.kind ?? "?"}, SDK ${d.bundle?.sdk ?? "?"}${d.bundle?.package?.name ? `, ${d.bundle.package.name}@${d.bundle.package.version ?? "?"}` : ""})` : "module";
        const lines = [
          `${d.server}: deployed ${what}, version ${d.version ?? "none"} (${d.status})`,
          `tools: ${d.tools.join(", ") || "none"}`,
          `calls ${d.calls}, errors ${d.errors} (${(d.errorRate * 100).toFixed(1)} %) in the last 24 h${d.latencyMs?.p50 != null ? `, p50 ${d.latencyMs.p50} ms, p95 ${d.latencyMs.p95} ms` : ""}`,
          `egress: ${d.egress.join(", ") || "none"}`,
        ];
        for (const e of d.lastErrors.slice(0, 5)) lines.push(`error ${relativeTime(e.at, now())} v${e.version} ${e.kind}: ${e.message}`);
        if (d.console?.length) lines.push("console (newest last):", ...d.console.slice(-10).map((/** @type {any} */ l) => `  ${relativeTime(l.at, now())} ${l.level}: ${l.line}`));
        return lines.join("\n");
      });
    },
  },
  {
    usage: "servers versions <tenant> <server>",
    summary: "a deployed server's stored versions, newest first",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/servers/${args.server}/deployments`);
      out.result(data, ({ deployments }) =>
        table(
          ["VERSION", "KIND", "STATUS", "SIZE", "CREATED", "CALLS", "ERRORS"],
          deployments.map((/** @type {any} */ d) => [`v${d.version}`, d.kind, d.status, String(d.size), relativeTime(d.createdAt, now()), String(d.calls), String(d.errors)]),
        ),
      );
    },
  },
  {
    usage: "servers rollback <tenant> <server> <version>",
    summary: "make a stored version active again (after its health check); running sessions keep theirs",
    async run({ api, args, out }) {
      const done = await api.post(adminPath`/tenants/${args.tenant}/servers/${args.server}/deployments/${args.version}/activate`);
      out.result(done, (d) => `${args.tenant}/${d.server} now serves v${d.version}; new sessions use it, running ones keep their version`);
    },
  },
];
