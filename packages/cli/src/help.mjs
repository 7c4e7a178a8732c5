/**
 * `smcp help` and `smcp <command> --help`, rendered from the command table, so the
 * help lists exactly the commands and flags the parser accepts.
 */
import { DEFAULT_URL } from "./config.mjs";

/**
 * @param {import("./commands/context.mjs").Command[]} shown the commands to describe
 * @param {boolean} all whether this is the whole table (then the intro and global options too)
 */
export function helpText(shown, all) {
  const lines = shown.flatMap((c, i) => {
    const group = c.usage.split(" ")[0];
    const gap = i > 0 && shown[i - 1].usage.split(" ")[0] !== group ? [""] : [];
    return [...gap, `  smcp ${c.usage}`, `      ${c.summary}`];
  });
  const globals = [
    "options for every command:",
    `  --url URL      the platform (env SMCP_URL, default ${DEFAULT_URL})`,
    "  --token TOKEN  the admin token, or a tenant admin key (smcp_ak_...) to manage that tenant only",
    "                 (env SMCP_ADMIN_TOKEN; else, for a local URL, the one `pnpm dev` wrote to .dev.vars)",
    "  --json         print the admin API's JSON as is, for scripts",
    "  -h, --help     this help",
  ];
  if (!all) return ["usage:", ...lines, "", ...globals].join("\n");
  return [
    "smcp: the SMCP admin CLI (it wraps the admin API at /admin/v1)",
    "",
    "commands:",
    ...lines,
    "",
    ...globals,
    "",
    "exit codes: 0 done, 1 failed (unreachable, refused, not found, ...), 2 bad command line",
  ].join("\n");
}
