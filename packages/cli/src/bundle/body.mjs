/**
 * The deploy request's body. An SDK server goes as `sdk-bundle/1` JSON (the bundle, its
 * package files and how to start it); a module in SMCP's own format goes as before, the
 * raw module as `application/javascript`, so the platform's older path serves it. The
 * whole body is capped here as the platform caps it, with the figures, so a too-large
 * package is refused before an upload.
 */
import path from "node:path";
import { CliError } from "../errors.mjs";
import { ROOT } from "./file-locations.mjs";

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * @typedef {object} StartOptions
 * @property {string[]} argv process.argv.slice(2) of the server
 * @property {Record<string, string>} env non-secret environment (a secret of the same name wins)
 * @property {unknown} [config] for a factory: createServer's `config`
 */

/**
 * @param {import("./bundle.mjs").Bundle} bundle
 * @param {import("./package-files.mjs").PackageFiles} files
 * @param {import("./source.mjs").Source} source
 * @param {StartOptions} start
 * @returns {{ contentType: string, body: string, bytes: number }}
 */
export function deployBody(bundle, files, source, { argv, env, config }) {
  if (bundle.kind === "module") return sized("application/javascript", bundle.code, bundle);
  const body = {
    format: "sdk-bundle/1",
    kind: bundle.kind,
    sdk: bundle.sdk,
    code: bundle.code,
    builtins: bundle.builtins,
    files,
    root: ROOT,
    argv,
    env,
    ...(bundle.kind === "factory" ? { config: config ?? {} } : {}),
    package: {
      name: String(source.pkg?.name ?? path.basename(source.entry).replace(/\.[^.]*$/, "")),
      version: String(source.pkg?.version ?? "0.0.0"),
    },
  };
  return sized("application/json", JSON.stringify(body), bundle);
}

/**
 * @param {string} contentType
 * @param {string} body
 * @param {import("./bundle.mjs").Bundle} bundle
 */
function sized(contentType, body, bundle) {
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_BODY_BYTES) {
    const code = Buffer.byteLength(bundle.code);
    throw new CliError(
      `the deployment is ${mib(bytes)} (bundle ${mib(code)}, package files ${mib(bytes - code)}), over the ${mib(MAX_BODY_BYTES)} limit`,
    );
  }
  return { contentType, body, bytes };
}

/** @param {number} bytes */
export function mib(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
