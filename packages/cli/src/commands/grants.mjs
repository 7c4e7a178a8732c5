/**
 * `smcp grants ...`: a tenant's OAuth grants (which client, approved by which key or
 * signed-in person, for which server, last used when) and an admin's revocation of one,
 * or of every grant of one person (`revoke-subject`), which ends their sessions and
 * streams at once. Paged like `smcp audit`.
 */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const grantCommands = [
  {
    usage: "grants ls <tenant> [--after N] [--limit N]",
    summary: "list a tenant's live OAuth grants: client, approving key, server, last use (to the hour)",
    async run({ api, args, opts, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/grants`, { after: opts.after, limit: opts.limit });
      out.result(data, ({ grants }) =>
        grants.length === 0
          ? `tenant ${args.tenant} has no live OAuth grants`
          : table(
              ["GRANT", "CLIENT", "APPROVED BY", "SERVER", "CREATED", "LAST USED", "EXPIRES"],
              grants.map((/** @type {any} */ g) => [
                g.id,
                g.client.name ? `${g.client.name} (${g.client.id})` : g.client.id,
                g.approver.subject ? `${g.approver.email ?? g.approver.subject} (sso)` : (g.approver.keyId ?? "-"),
                g.server,
                relativeTime(g.createdAt, now()),
                g.lastUsedAt === null ? "never" : `~${relativeTime(g.lastUsedAt, now())}`,
                relativeTime(g.expiresAt, now()),
              ]),
            ),
      );
      if (!out.json && data.next !== null) out.note(`more: smcp grants ls ${args.tenant} --after ${data.next}`);
    },
  },
  {
    usage: "grants revoke <tenant> <grant>",
    summary: "revoke a grant: its tokens stop working and its sessions and streams end now",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/grants/${args.grant}`);
      out.result(done, (d) => {
        const failed = d.sessionsFailed.length ? `; ${d.sessionsFailed.length} could not be ended yet (run this again to retry): ${d.sessionsFailed.join(", ")}` : "";
        return `revoked ${d.revoked}${d.alreadyRevoked ? " (it was already revoked)" : ""}: ${d.sessionsEnded} session(s) ended${failed}`;
      });
      return done.sessionsFailed.length ? 1 : 0;
    },
  },
  {
    usage: "grants revoke-subject <tenant> <subject>",
    summary: "revoke every grant a person signed in for (single sign-on subject): their tokens stop working and their sessions and streams end now",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/grants`, { subject: args.subject });
      out.result(done, (d) => {
        const failed = d.sessionsFailed.length ? `; ${d.sessionsFailed.length} could not be ended yet (run this again to retry): ${d.sessionsFailed.join(", ")}` : "";
        const already = d.alreadyRevoked.length ? ` (${d.alreadyRevoked.length} already revoked)` : "";
        return `revoked ${d.revoked.length} grant(s) of ${d.subject}${already}: ${d.sessionsEnded} session(s) ended${failed}`;
      });
      return done.sessionsFailed.length ? 1 : 0;
    },
  },
];
