/**
 * Command-line parsing. Each command's usage line is its grammar, as a route pattern
 * is a route's: in `sessions events <tenant> <session> [--after N] [--follow]` the
 * leading words name the command, `<x>` is a required positional, `[--flag VALUE]` a
 * string option (`N` an integer >= 0, `a|b` a choice), `[--flag VALUE]...` one that may
 * be repeated (its values in order, as an array) and `[--flag]` a boolean. So
 * the help text and the parser cannot disagree. Parsing is util.parseArgs, twice: a
 * lenient pass to find the command words wherever the flags are, then a strict pass
 * with that command's options. It never prints; bad input is a UsageError.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.mjs";

/**
 * Options every command accepts.
 * @type {Record<string, { type: "string" | "boolean", short?: string }>}
 */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/**
 * @typedef {{ name: string, type: "string" | "boolean", kind: "text" | "integer" | "choice" | "flag", choices?: string[], multiple?: true }} OptionSpec
 * @typedef {{ words: string[], positionals: string[], options: OptionSpec[] }} Grammar
 */

/**
 * The grammar a usage line describes.
 * @param {string} usage
 * @returns {Grammar}
 */
export function grammarOf(usage) {
  /** @type {string[]} */
  const words = [];
  /** @type {string[]} */
  const positionals = [];
  /** @type {OptionSpec[]} */
  const options = [];
  for (const m of usage.matchAll(/\[--([a-z-]+)(?: ([^\]]+))?\](\.\.\.)?|<([a-z-]+)>|([a-z-]+)/g)) {
    const [, flag, value, repeated, positional, word] = m;
    const multiple = repeated ? { multiple: /** @type {const} */ (true) } : {};
    if (word !== undefined && positionals.length === 0 && options.length === 0) words.push(word);
    else if (positional !== undefined) positionals.push(positional);
    else if (flag !== undefined && value === undefined) options.push({ name: flag, type: "boolean", kind: "flag" });
    else if (flag !== undefined && value === "N") options.push({ name: flag, type: "string", kind: "integer", ...multiple });
    else if (flag !== undefined && value.includes("|")) options.push({ name: flag, type: "string", kind: "choice", choices: value.split("|"), ...multiple });
    else if (flag !== undefined) options.push({ name: flag, type: "string", kind: "text", ...multiple });
  }
  return { words, positionals, options };
}

/**
 * @template {{ usage: string }} C
 * @typedef {{ kind: "help", commands: C[], all: boolean }
 *   | { kind: "run", command: C, args: Record<string, string>, opts: Record<string, OptionValue> }} Parsed
 */

/** @typedef {string | number | boolean | undefined | (string | number)[]} OptionValue a repeated option's values are an array */

/**
 * Finds the command `rawArgv` names and parses its arguments.
 * `help`, `help <words>`, `--help` and no arguments at all ask for help.
 * @template {{ usage: string }} C
 * @param {string[]} rawArgv
 * @param {C[]} commands
 * @returns {Parsed<C>}
 */
export function parseCommandLine(rawArgv, commands) {
  // Ids minted by the platform are base64url and may start with "-" (a session id, say):
  // such a word is never one of our options (they are all long but -h), so it is held
  // back from parseArgs, which would read it as a cluster of short options, and put back after.
  /** @type {Map<string, string>} */
  const held = new Map();
  const argv = rawArgv.map((/** @type {string} */ arg, /** @type {number} */ i) => {
    if (!/^-[^-]/.test(arg) || arg === "-h") return arg;
    const token = `\u0000${i}`;
    held.set(token, arg);
    return token;
  });
  /**
   * @template T
   * @param {T} value
   * @returns {T}
   */
  const restore = (value) => /** @type {T} */ (typeof value === "string" ? (held.get(value) ?? value) : value);
  const table = commands.map((command) => ({ command, grammar: grammarOf(command.usage) }));
  const lenient = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...unionOfOptions(table) }, strict: false, allowPositionals: true });
  const words = lenient.positionals.map(restore);
  const wantsHelp = lenient.values.help === true;

  if (words[0] === "help") {
    if (words.length === 1) return { kind: "help", commands, all: true };
    const topic = matching(table, words.slice(1));
    if (!topic) throw new UsageError(`no command ${words.slice(1).join(" ")}`, ["smcp help [<command>]"]);
    return { kind: "help", commands: topic, all: false };
  }
  if (words.length === 0) {
    if (wantsHelp) return { kind: "help", commands, all: true };
    throw new UsageError("no command given", ["smcp <command> ...   (smcp help lists the commands)"]);
  }

  const found = longestMatch(table, words);
  if (!found) {
    const group = matching(table, words.slice(0, 1));
    if (group && wantsHelp) return { kind: "help", commands: group, all: false };
    if (group) {
      const what = words[1] === undefined ? `${words[0]} needs a subcommand` : `unknown subcommand: ${words[0]} ${words[1]}`;
      throw new UsageError(what, group.map((c) => `smcp ${c.usage}`));
    }
    throw new UsageError(`unknown command: ${words[0]}`, ["smcp <command> ...   (smcp help lists the commands)"]);
  }
  const { command, grammar } = found;
  if (wantsHelp) return { kind: "help", commands: [command], all: false };

  const usage = [`smcp ${command.usage}`];
  let strict;
  try {
    strict = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...optionsOf(grammar) }, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs explains how to pass a positional that starts with "-"; the first sentence is the point.
    throw new UsageError(String(/** @type {Error} */ (err).message).split(/\.\s/)[0], usage);
  }

  const rest = strict.positionals.slice(grammar.words.length).map(restore);
  if (rest.length < grammar.positionals.length) throw new UsageError(`missing <${grammar.positionals[rest.length]}>`, usage);
  if (rest.length > grammar.positionals.length) throw new UsageError(`unexpected argument: ${rest[grammar.positionals.length]}`, usage);
  const args = Object.fromEntries(grammar.positionals.map((name, i) => [name, rest[i]]));

  /** @type {Record<string, OptionValue>} */
  const opts = { url: stringOrUndefined(restore(strict.values.url)), token: stringOrUndefined(restore(strict.values.token)), json: strict.values.json === true };
  for (const option of grammar.options) {
    const value = strict.values[option.name];
    opts[option.name] = option.multiple
      ? (Array.isArray(value) ? value : []).map((v) => /** @type {string | number} */ (checkValue(option, restore(v), usage)))
      : checkValue(option, restore(value), usage);
  }
  return { kind: "run", command, args, opts };
}

/**
 * @param {OptionSpec} option
 * @param {unknown} value
 * @param {string[]} usage
 */
function checkValue(option, value, usage) {
  if (option.kind === "flag") return value === true;
  if (value === undefined) return undefined;
  const text = String(value);
  if (option.kind === "integer") {
    if (!/^\d+$/.test(text)) throw new UsageError(`--${option.name} must be a whole number, not ${JSON.stringify(text)}`, usage);
    return Number(text);
  }
  if (option.kind === "choice" && !option.choices?.includes(text)) {
    throw new UsageError(`--${option.name} must be one of ${option.choices?.join(", ")}, not ${JSON.stringify(text)}`, usage);
  }
  return text;
}

/** @param {unknown} value */
const stringOrUndefined = (value) => (typeof value === "string" ? value : undefined);

/** @param {Grammar} grammar */
function optionsOf(grammar) {
  return Object.fromEntries(grammar.options.map((o) => [o.name, o.multiple ? { type: o.type, multiple: true } : { type: o.type }]));
}

/** Every command's options at once, so the lenient pass knows which flags take a value. */
function unionOfOptions(/** @type {{ grammar: Grammar }[]} */ table) {
  return Object.assign({}, ...table.map((t) => optionsOf(t.grammar)));
}

/**
 * @template C
 * @param {{ command: C, grammar: Grammar }[]} table
 * @param {string[]} words
 */
function longestMatch(table, words) {
  const hits = table.filter((t) => t.grammar.words.every((w, i) => words[i] === w));
  return hits.sort((a, b) => b.grammar.words.length - a.grammar.words.length)[0];
}

/**
 * The commands whose words start with `prefix`, or null when none do.
 * @template C
 * @param {{ command: C, grammar: Grammar }[]} table
 * @param {string[]} prefix
 * @returns {C[] | null}
 */
function matching(table, prefix) {
  const hits = table.filter((t) => prefix.every((w, i) => t.grammar.words[i] === w)).map((t) => t.command);
  return hits.length ? hits : null;
}
