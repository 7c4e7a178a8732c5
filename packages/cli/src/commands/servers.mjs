/** `smcp servers ...`: which built-in MCP servers a tenant exposes at /mcp/{tenant}/{server}. */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

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
];
