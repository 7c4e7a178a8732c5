/**
 * `smcp secrets ...`: write-only secrets of a tenant's deployed server. `set` reads the
 * value from stdin (../read-secret.mjs), never from the command line; nothing here can
 * print a value, because the admin API never returns one.
 */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const secretCommands = [
  {
    usage: "secrets ls <tenant> <server>",
    summary: "a deployed server's secrets: names and times, never values",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/servers/${args.server}/secrets`);
      out.result(data, ({ secrets }) =>
        secrets.length === 0
          ? `server ${args.server} of ${args.tenant} has no secrets (printf %s "$VALUE" | smcp secrets set ${args.tenant} ${args.server} NAME)`
          : table(
              ["NAME", "SET", "CREATED", "KEY"],
              secrets.map((/** @type {any} */ s) => [s.name, relativeTime(s.updatedAt, now()), relativeTime(s.createdAt, now()), s.keyId]),
            ),
      );
    },
  },
  {
    usage: "secrets set <tenant> <server> <name>",
    summary: "set a secret; the value is read from stdin (typed without echo, or piped)",
    async run({ api, args, out, readSecret }) {
      const value = await readSecret(`value of ${args.name} for ${args.tenant}/${args.server} (not shown): `);
      const done = await api.putText(adminPath`/tenants/${args.tenant}/servers/${args.server}/secrets/${args.name}`, value);
      out.result(done, (d) => `${d.created ? "set" : "replaced"} ${d.name} of ${args.tenant}/${d.server}; new sessions of the server see it`);
    },
  },
  {
    usage: "secrets rm <tenant> <server> <name>",
    summary: "delete a secret",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/servers/${args.server}/secrets/${args.name}`);
      out.result(done, (d) => `deleted ${d.name} of ${args.tenant}/${d.server}`);
    },
  },
  {
    usage: "secrets rekey <tenant>",
    summary: "seal a tenant's secrets again under the current SMCP_SECRETS_KEY (after a rotation)",
    async run({ api, args, out }) {
      const done = await api.post(adminPath`/tenants/${args.tenant}/secrets/rekey`);
      out.result(done, (d) =>
        [
          `re-sealed ${d.rekeyed} secret(s) of ${args.tenant} under key ${d.keyId}`,
          ...(d.unreadable.length ? [`neither key opens these; set them again: ${d.unreadable.join(", ")}`] : []),
        ].join("\n"),
      );
      return done.unreadable.length ? 1 : 0;
    },
  },
];
