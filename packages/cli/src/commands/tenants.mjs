/**
 * `smcp tenants ...`: a tenant's lifecycle. `show` is the overview a person wants
 * (config, servers, keys, live sessions) and so makes four calls; under `--json` it
 * is the single GET, since scripts want the API's record, not a collage.
 */
import { adminPath } from "../api.mjs";
import { fields, plural, table, timestamp, relativeTime } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const tenantCommands = [
  {
    usage: "tenants ls",
    summary: "list tenants",
    async run({ api, out, now }) {
      const data = await api.get("/tenants");
      out.result(data, ({ tenants }) =>
        tenants.length === 0
          ? "no tenants yet (smcp tenants create <tenant>)"
          : table(
              ["TENANT", "NAME", "AUTH", "CREATED"],
              tenants.map((/** @type {any} */ t) => [t.id, t.name, t.auth, relativeTime(t.createdAt, now())]),
            ),
      );
    },
  },
  {
    usage: "tenants show <tenant>",
    summary: "one tenant: config, servers, keys, live sessions",
    async run({ api, args, out, now }) {
      const tenant = await api.get(adminPath`/tenants/${args.tenant}`);
      if (out.json) return out.line(JSON.stringify(tenant, null, 2));
      const [servers, keys, sessions] = await Promise.all([
        api.get(adminPath`/tenants/${args.tenant}/servers`),
        api.get(adminPath`/tenants/${args.tenant}/keys`),
        api.get(adminPath`/tenants/${args.tenant}/sessions`),
      ]);
      const live = keys.keys.filter((/** @type {any} */ k) => k.revokedAt === null).length;
      const limits = Object.entries(tenant.limits ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
      out.result(tenant, (t) =>
        fields([
          ["tenant", t.id],
          ["name", t.name],
          ["auth", t.auth === "key" ? "key (Authorization: Bearer smcp_sk_…)" : "none (public)"],
          ["limits", limits || "platform defaults"],
          ["created", timestamp(t.createdAt, now())],
          ["servers", servers.servers.map((/** @type {any} */ s) => s.name).join(", ") || "none enabled"],
          ["keys", `${live} live${keys.keys.length > live ? `, ${keys.keys.length - live} revoked` : ""}`],
          ["sessions", `${sessions.sessions.length} live`],
        ]),
      );
    },
  },
  {
    usage: "tenants create <tenant> [--name NAME] [--auth key|none]",
    summary: "create a tenant (auth none needs SMCP_ALLOW_PUBLIC_TENANTS)",
    async run({ api, args, opts, out }) {
      const tenant = await api.post("/tenants", { id: args.tenant, name: opts.name, auth: opts.auth });
      out.result(tenant, (t) => `created tenant ${t.id} (auth ${t.auth}); next: smcp servers enable ${t.id} notes` + (t.auth === "key" ? `, smcp keys create ${t.id}` : ""));
    },
  },
  {
    usage: "tenants rm <tenant>",
    summary: "delete a tenant with all its data, ending its sessions",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}`);
      out.result(done, (d) => `deleted tenant ${d.deleted}; ended ${plural(d.sessionsEnded, "session")}`);
    },
  },
];
