/**
 * The CLI as a function: argv and streams in, an exit code out. It parses, resolves
 * the URL and token, runs one command, and is the only place errors become output
 * (CliError: its message, exit 1; UsageError: message and usage line, exit 2;
 * anything else: a bug, reported with its stack, exit 1). No other module calls
 * process.exit or writes to stderr on its own.
 */
import { createApi } from "./api.mjs";
import { parseCommandLine } from "./args.mjs";
import { commands } from "./commands/index.mjs";
import { resolveConfig } from "./config.mjs";
import { CliError, UsageError } from "./errors.mjs";
import { helpText } from "./help.mjs";
import { createOutput } from "./output.mjs";
import { readSecret } from "./read-secret.mjs";

/**
 * @param {string[]} argv the arguments after `smcp`
 * @param {{ stdout: import("./output.mjs").Stream, stderr: import("./output.mjs").Stream, env: Record<string, string | undefined>, stdin?: import("./read-secret.mjs").Input }} io
 * @returns {Promise<number>} the exit code
 */
export async function main(argv, { stdout, stderr, env, stdin }) {
  try {
    const parsed = parseCommandLine(argv, commands);
    if (parsed.kind === "help") {
      stdout.write(`${helpText(parsed.commands, parsed.all)}\n`);
      return 0;
    }
    const config = resolveConfig(parsed.opts, env);
    const code = await parsed.command.run({
      api: createApi(config),
      args: parsed.args,
      opts: parsed.opts,
      out: createOutput({ stdout, stderr, json: parsed.opts.json === true }),
      now: Date.now,
      cwd: env.INIT_CWD || process.cwd(),
      interrupt,
      readSecret: (prompt) => readSecret(stdin, stderr, prompt),
    });
    return code ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`smcp: ${err.message}\nusage: ${err.usage.join("\n       ")}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      stderr.write(`smcp: ${err.message}\n`);
      return 1;
    }
    stderr.write(`smcp: unexpected error (a bug in the CLI, please report it):\n${err instanceof Error ? err.stack : String(err)}\n`);
    return 1;
  }
}

/** An AbortSignal that Ctrl+C or SIGTERM aborts, in place of ending the process. */
function interrupt() {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}
