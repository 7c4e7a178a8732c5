/**
 * Where the platform is and which admin token to send: flags, then the environment,
 * then (for the token only) the repo's `.dev.vars`, which `pnpm dev` writes on its
 * first run, so the CLI works right after `pnpm dev` with no setup. That file's token
 * is only ever sent to a loopback URL: it is the local dev server's secret, and a
 * `--url` pointing elsewhere must not receive it by accident.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "./errors.mjs";

export const DEFAULT_URL = "http://localhost:8787";
export const DEV_VARS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../.dev.vars");

/**
 * @typedef {{ url: string, token: string | null }} Config
 */

/**
 * @param {{ url?: unknown, token?: unknown }} flags
 * @param {Record<string, string | undefined>} env
 * @param {string} devVarsPath
 * @returns {Config}
 */
export function resolveConfig(flags, env, devVarsPath = DEV_VARS) {
  const url = normalizeUrl(String(flags.url ?? (env.SMCP_URL || DEFAULT_URL)));
  if (typeof flags.token === "string" && flags.token) return { url, token: flags.token };
  if (env.SMCP_ADMIN_TOKEN) return { url, token: env.SMCP_ADMIN_TOKEN };
  const devToken = isLoopback(url) ? readDevVars(devVarsPath).SMCP_ADMIN_TOKEN : undefined;
  return { url, token: devToken || null };
}

/** @param {string} raw */
function normalizeUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`not a URL: ${raw} (give --url or SMCP_URL as http://host:port)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`the platform URL must be http or https, not ${raw}`);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** @param {string} url */
function isLoopback(url) {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `NAME=value` lines, as `pnpm dev` writes them; comments and anything else are skipped.
 * @param {string} file
 * @returns {Record<string, string>}
 */
export function readDevVars(file) {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter((m) => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}
