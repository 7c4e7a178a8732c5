/**
 * `smcp keys ...`: a tenant's API keys. The secret exists only in the answer to
 * `create`, so that command prints it prominently and once; nothing else can show it.
 */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const keyCommands = [
  {
    usage: "keys ls <tenant>",
    summary: "list a tenant's keys (never their secrets)",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/keys`);
      out.result(data, ({ keys }) =>
        keys.length === 0
          ? `tenant ${args.tenant} has no keys (smcp keys create ${args.tenant})`
          : table(
              ["KEY", "LABEL", "CREATED", "STATUS"],
              keys.map((/** @type {any} */ k) => [k.id, k.label, relativeTime(k.createdAt, now()), k.revokedAt === null ? "live" : `revoked ${relativeTime(k.revokedAt, now())}`]),
            ),
      );
    },
  },
  {
    usage: "keys create <tenant> [--label LABEL]",
    summary: "create a key; its secret is shown this once",
    async run({ api, args, opts, out }) {
      const key = await api.post(adminPath`/tenants/${args.tenant}/keys`, { label: opts.label });
      out.result(key, (k) => `created ${k.id} (${k.label}) for tenant ${args.tenant}\n\n  ${k.key}\n\nThis secret is shown only now; clients send it as Authorization: Bearer <key>.`);
    },
  },
  {
    usage: "keys revoke <tenant> <key>",
    summary: "revoke a key; requests with it fail from now on",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/keys/${args.key}`);
      out.result(done, (d) => `revoked ${d.revoked}`);
    },
  },
];
