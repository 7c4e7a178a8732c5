/** `smcp tasks ...`: a tenant's tasks (2026-07-28 Tasks extension): list them, cancel one. */
import { adminPath } from "../api.mjs";
import { relativeTime, table } from "../format.mjs";

/** @typedef {import("./context.mjs").Command} Command */

/** @type {Command[]} */
export const taskCommands = [
  {
    usage: "tasks ls <tenant>",
    summary: "the tenant's tasks, newest first: server, owner, status, times",
    async run({ api, args, out, now }) {
      const data = await api.get(adminPath`/tenants/${args.tenant}/tasks`);
      out.result(data, ({ tasks }) =>
        tasks.length === 0
          ? `tenant ${args.tenant} holds no tasks`
          : table(
              ["TASK", "SERVER", "OWNER", "STATUS", "CREATED", "EXPIRES"],
              tasks.map((/** @type {any} */ t) => [
                t.taskId,
                t.server,
                t.grantId ? `grant ${t.grantId}` : t.keyId ? `key ${t.keyId}` : "(no key)",
                t.statusMessage ? `${t.status}: ${t.statusMessage}` : t.status,
                relativeTime(t.createdAt, now()),
                relativeTime(t.expiresAt, now()),
              ]),
            ),
      );
    },
  },
  {
    usage: "tasks cancel <tenant> <task>",
    summary: "cancel a task of the tenant, whoever owns it (audited)",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/tasks/${args.task}`);
      out.result(done, (d) => `cancelled ${d.cancelled} of ${args.tenant}; its owner's tasks/get now says cancelled`);
    },
  },
];
