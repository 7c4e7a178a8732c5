/**
 * Reading a secret's value from stdin, never from argv (where `ps` and shell history
 * would see it). On a terminal it asks on stderr and reads one line with echo off
 * (raw mode: the characters typed are never written back); from a pipe or a file it
 * takes everything up to the end, less one trailing newline (`echo` adds one), so a
 * multi-line value such as a PEM key passes whole.
 */
import { CliError } from "./errors.mjs";

/** The most a value may be (the admin API's limit); a longer pipe is refused before sending. */
const MAX_BYTES = 16 * 1024;

/**
 * @typedef {NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: (raw: boolean) => unknown }} Input
 */

/**
 * @param {Input | undefined} stdin
 * @param {{ write(text: string): unknown }} stderr
 * @param {string} prompt
 * @returns {Promise<string>}
 */
export async function readSecret(stdin, stderr, prompt) {
  if (!stdin) throw new CliError("no stdin to read the secret from");
  const value = stdin.isTTY && stdin.setRawMode ? await readHidden(stdin, stderr, prompt) : stripNewline(await readAll(stdin));
  if (value === "") throw new CliError("the secret is empty: pipe the value in (printf %s \"$VALUE\" | smcp secrets set ...) or type it at the prompt");
  if (Buffer.byteLength(value, "utf8") > MAX_BYTES) throw new CliError(`the secret is larger than ${MAX_BYTES} bytes, the most one may be`);
  return value;
}

/** @param {string} text */
const stripNewline = (text) => text.replace(/\r?\n$/, "");

/** @param {NodeJS.ReadableStream} stdin */
async function readAll(stdin) {
  /** @type {Buffer[]} */
  const chunks = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : /** @type {Buffer} */ (chunk);
    total += buffer.byteLength;
    // One newline past the limit may still be stripped.
    if (total > MAX_BYTES + 2) throw new CliError(`the secret is larger than ${MAX_BYTES} bytes, the most one may be`);
    chunks.push(buffer);
  }
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CliError("the secret is not UTF-8 text");
  }
}

/**
 * One line typed with echo off; Backspace edits, Ctrl+C or Ctrl+D on an empty line stops.
 * @param {Input} stdin
 * @param {{ write(text: string): unknown }} stderr
 * @param {string} prompt
 * @returns {Promise<string>}
 */
function readHidden(stdin, stderr, prompt) {
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  let typed = "";
  return new Promise((resolve, reject) => {
    const done = (/** @type {Error | null} */ err) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write("\n");
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (/** @type {Buffer | string} */ data) => {
      for (const ch of String(data)) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003" || (ch === "\u0004" && typed === "")) return done(new CliError("stopped; no secret was set"));
        if (ch === "\u007f" || ch === "\b") typed = [...typed].slice(0, -1).join("");
        else typed += ch;
      }
    };
    stdin.on("data", onData);
  });
}
