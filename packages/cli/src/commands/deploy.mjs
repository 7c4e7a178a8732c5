/**
 * `smcp deploy`: an MCP server as its author published it (a file, a package directory,
 * an `npm pack` tarball or a package installed in node_modules), bundled here for
 * workerd (../bundle/) and sent as one deployment. Progress goes to stderr; stdout gets
 * the version, the tools, the MCP URL and a line that connects Claude Code.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { adminPath } from "../api.mjs";
import { bundleServer, deployBody, mib, packageFiles, resolveSource } from "../bundle/index.mjs";
import { CliError, UsageError } from "../errors.mjs";

/** @typedef {import("./context.mjs").Command} Command */

const USAGE = "deploy <tenant> <server> <source> [--arg ARG]... [--env NAME=VALUE]... [--config FILE] [--kind stdio|factory] [--dry-run]";

/** @type {Command} */
export const deployCommand = {
  usage: USAGE,
  summary: "bundle an MCP server (a file, package directory, npm pack .tgz or installed package) and deploy it; --dry-run only bundles",
  async run({ api, args, opts, out, cwd }) {
    const env = envOf(opts.env);
    const config = opts.config === undefined ? undefined : readConfig(path.resolve(cwd, opts.config));
    out.note(`resolving ${args.source}`);
    const source = resolveSource(args.source, cwd);
    try {
      const name = source.pkg ? `${source.pkg.name ?? "(unnamed)"}${source.pkg.version ? ` ${source.pkg.version}` : ""}, ` : "";
      out.note(`  ${source.from}: ${name}entry ${path.relative(source.packageDir, source.entry)}`);
      out.note("bundling with esbuild");
      const bundle = await bundleServer(source, { kind: opts.kind });
      for (const warning of bundle.warnings) out.note(`  warning: ${warning}`);
      if (config !== undefined && bundle.kind !== "factory") {
        throw new CliError(`--config is for a factory server (createServer({ config })); this one is a ${kindName(bundle.kind)}`);
      }
      const files = bundle.kind === "module" || source.from === "file" ? {} : packageFiles(source.packageDir);
      const body = deployBody(bundle, files, source, { argv: opts.arg ?? [], env, config });
      const count = Object.keys(files).length;
      out.note(`  ${kindName(bundle.kind)}${bundle.sdk === "unknown" ? "" : `, SDK ${bundle.sdk}`}: bundle ${mib(Buffer.byteLength(bundle.code))}, ${count} package file${count === 1 ? "" : "s"}, ${mib(body.bytes)} in all`);
      if (opts["dry-run"]) {
        out.result(
          { kind: bundle.kind, sdk: bundle.sdk, bytes: body.bytes, files: Object.keys(files), externals: bundle.externals, warnings: bundle.warnings },
          (d) => `dry run: a ${kindName(d.kind)} of ${mib(d.bytes)} for ${args.tenant}/${args.server}, not uploaded`,
        );
        return;
      }
      out.note(`uploading to ${api.base}; the platform health-checks it (initialize, tools/list) before it takes traffic`);
      const done = await api.putBody(adminPath`/tenants/${args.tenant}/servers/${args.server}/deployments`, body.contentType, body.body);
      out.note("  health check passed");
      const url = `${api.base}/mcp/${encodeURIComponent(args.tenant)}/${encodeURIComponent(args.server)}`;
      out.result(done, (d) => rendered(d, args.tenant, args.server, url));
    } finally {
      source.dispose();
    }
  },
};

/**
 * @param {any} done the admin API's answer
 * @param {string} tenant
 * @param {string} server
 * @param {string} url
 */
function rendered(done, tenant, server, url) {
  const tools = (Array.isArray(done.tools) ? done.tools : []).map((/** @type {any} */ t) => (typeof t === "string" ? t : String(t?.name)));
  return [
    `deployed ${server} version ${done.version} for ${tenant}`,
    `tools (${tools.length}): ${tools.join(", ") || "none"}`,
    `MCP URL: ${url}`,
    `connect Claude Code (with a key of tenant ${tenant}: smcp keys create ${tenant}):`,
    `  claude mcp add --transport http ${server} ${url} --header "Authorization: Bearer <tenant key>"`,
  ].join("\n");
}

/** @param {"stdio" | "factory" | "module"} kind */
function kindName(kind) {
  return kind === "module" ? "module in SMCP's own format" : `${kind} server`;
}

/**
 * `--env NAME=VALUE`, repeated.
 * @param {unknown} values
 * @returns {Record<string, string>}
 */
function envOf(values) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const pair of Array.isArray(values) ? values.map(String) : []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!m) throw new UsageError(`--env takes NAME=VALUE, not ${JSON.stringify(pair)}`, [`smcp ${USAGE}`]);
    env[m[1]] = m[2];
  }
  return env;
}

/** @param {string} file */
function readConfig(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read the config file ${file} (${/** @type {NodeJS.ErrnoException} */ (err).code ?? err})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`the config file ${file} is not JSON (${/** @type {Error} */ (err).message})`);
  }
}
