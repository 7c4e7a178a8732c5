/**
 * What every command receives. A command is `{ usage, summary, run(ctx) }`: its usage
 * line is its grammar (see ../args.mjs), `run` does one admin-API call or a few and
 * hands the answer to `ctx.out`; it returns an exit code only when not 0.
 *
 * @typedef {object} Context
 * @property {import("../api.mjs").Api} api
 * @property {Record<string, string>} args the `<positionals>` of the usage line, by name
 * @property {Record<string, any>} opts the `[--options]` of the usage line, by name, plus json
 * @property {import("../output.mjs").Output} out
 * @property {() => number} now the clock, for relative times
 * @property {string} cwd the directory the user ran the command in (pnpm's INIT_CWD under
 *   `pnpm smcp`, which runs scripts at the repo root), for paths on the command line
 * @property {() => AbortSignal} interrupt makes Ctrl+C (and SIGTERM) abort this signal
 *   instead of killing the process; only a command that waits indefinitely asks for it
 * @property {(prompt: string) => Promise<string>} readSecret a value from stdin, never
 *   from argv: typed without echo on a terminal, else all of a pipe less one final newline
 *
 * @typedef {object} Command
 * @property {string} usage e.g. `sessions show <tenant> <session>`
 * @property {string} summary one line for `smcp help`
 * @property {(ctx: Context) => Promise<number | void>} run
 */
export {};
