// The SMCP_SECRETS_KEY step of `pnpm dev`'s .dev.vars: a file without one (first run, or
// one written before deployed servers had secrets) gets a fresh key appended; one with a
// key keeps it, since the secrets stored locally are sealed with it.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** 32 random bytes in base64url: an SMCP_SECRETS_KEY. */
export function newSecretsKey() {
  return randomBytes(32).toString("base64url");
}

/**
 * Appends `SMCP_SECRETS_KEY=<new key>` to `file` unless it sets one (a non-empty value).
 * @param {string} file
 * @returns {boolean} whether a key was added
 */
export function ensureSecretsKey(file) {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (/^\s*SMCP_SECRETS_KEY=\S/m.test(text)) return false;
  appendFileSync(file, `${text === "" || text.endsWith("\n") ? "" : "\n"}SMCP_SECRETS_KEY=${newSecretsKey()}\n`);
  return true;
}
