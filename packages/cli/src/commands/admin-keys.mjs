/**
 * `smcp admin-keys ...`: a tenant's admin keys, which manage that one tenant through
 * the admin API and this CLI (`--token smcp_ak_...`). As with `keys create`, the
 * secret exists only in the answer to `create`, so it is printed prominently and once.
 */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const adminKeyCommands = [
  {
    usage: "admin-keys ls <tenant>",
    summary: "list a tenant's admin keys (never their secrets)",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/admin-keys`);
      out.result(data, ({ adminKeys }) =>
        adminKeys.length === 0
          ? `tenant ${args.tenant} has no admin keys (smcp admin-keys create ${args.tenant})`
          : table(
              ["ADMIN KEY", "LABEL", "CREATED", "STATUS"],
              adminKeys.map((/** @type {any} */ k) => [k.id, k.label, relativeTime(k.createdAt, now()), k.revokedAt === null ? "live" : `revoked ${relativeTime(k.revokedAt, now())}`]),
            ),
      );
    },
  },
  {
    usage: "admin-keys create <tenant> [--label LABEL]",
    summary: "create an admin key that manages this tenant only; its secret is shown this once",
    async run({ api, args, opts, out }) {
      const key = await api.post(adminPath`/tenants/${args.tenant}/admin-keys`, { label: opts.label });
      out.result(
        key,
        (k) =>
          `created admin key ${k.id} (${k.label}) for tenant ${args.tenant}\n\n  ${k.key}\n\n` +
          `This secret is shown only now. It manages tenant ${args.tenant} (servers, deployments, keys, sessions, audit) and nothing else:\n` +
          `  smcp servers ls ${args.tenant} --token <admin key>   (or SMCP_ADMIN_TOKEN=<admin key>)`,
      );
    },
  },
  {
    usage: "admin-keys revoke <tenant> <key>",
    summary: "revoke an admin key; it is refused from its next call on",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/admin-keys/${args.key}`);
      out.result(done, (d) => `revoked admin key ${d.revoked}`);
    },
  },
];
