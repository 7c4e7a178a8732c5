/**
 * The command table: every command the CLI has, in the order `smcp help` lists
 * them. Adding a command is one entry here and one object in its resource's module.
 */
import { adminKeyCommands } from "./admin-keys.mjs";
import { auditCommand, auditRetentionCommands } from "./audit.mjs";
import { deployCommand } from "./deploy.mjs";
import { eventsCommand } from "./events.mjs";
import { grantCommands } from "./grants.mjs";
import { healthCommand } from "./health.mjs";
import { keyCommands } from "./keys.mjs";
import { metricsCommand } from "./metrics.mjs";
import { policyCommands } from "./policy.mjs";
import { secretCommands } from "./secrets.mjs";
import { serverCommands } from "./servers.mjs";
import { sessionCommands } from "./sessions.mjs";
import { taskCommands } from "./tasks.mjs";
import { tenantCommands } from "./tenants.mjs";
import { topCommand } from "./top.mjs";
import { upstreamCommands } from "./upstream.mjs";

/** @type {import("./context.mjs").Command[]} */
export const commands = [
  ...tenantCommands,
  ...keyCommands,
  ...adminKeyCommands,
  ...serverCommands,
  deployCommand,
  ...upstreamCommands,
  ...secretCommands,
  ...policyCommands,
  ...sessionCommands,
  ...taskCommands,
  ...grantCommands,
  eventsCommand,
  auditCommand,
  ...auditRetentionCommands,
  healthCommand,
  metricsCommand,
  topCommand,
];
