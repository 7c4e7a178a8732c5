/**
 * One server, bundled for workerd: esbuild with the module swaps and file locations of
 * this folder, then the decisions only the whole graph can make: which kind of server
 * it is, which SDK it was written with, and whether it can run at all. It refuses
 * (CliError) a graph with native addons, and warns about built-ins workerd cannot give
 * (a process, a raw socket, a thread), which fail only if the start path uses them.
 */
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "../errors.mjs";
import { CONDITIONS } from "./entry.mjs";
import { LOCATION_DEFINES, deployedPath, fileLocations } from "./file-locations.mjs";
import { emptyGraph, moduleSwaps } from "./module-swaps.mjs";
import { requirePrelude, withPrelude } from "./require-prelude.mjs";
import { wrapModule } from "./wrap-module.mjs";

/** The CLI's own directory: its node_modules hold what a package may lack (@cfworker/json-schema). */
const CLI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const SDK_V1 = /[\\/]@modelcontextprotocol[\\/]sdk[\\/]/;
const SDK_V2 = /[\\/]@modelcontextprotocol[\\/](server|core)[\\/]/;

/**
 * @typedef {"stdio" | "factory" | "module"} Kind `module`: SMCP's own format (a default-exported `{ tools }`)
 * @typedef {"v1" | "v2" | "unknown"} Sdk
 *
 * @typedef {object} Bundle
 * @property {Kind} kind
 * @property {Sdk} sdk
 * @property {string} code one ES module (an SDK server's: wrapped, wrap-module.mjs)
 * @property {string[]} builtins the Node built-ins it asks the platform for
 * @property {string[]} exports what the module exports
 * @property {string[]} externals the specifiers it imports (the platform provides them)
 * @property {string[]} inputs the files bundled, by their deployed paths (`/app/...`)
 * @property {string[]} warnings
 */

/**
 * @param {import("./source.mjs").Source} source
 * @param {{ kind?: "stdio" | "factory" }} [options] `kind` overrides what the graph suggests
 * @returns {Promise<Bundle>}
 */
export async function bundleServer(source, { kind: override } = {}) {
  const first = await runEsbuild(source, true);
  const kind = override ?? kindOf(first.graph.stdio.length > 0, sdkOf(first.graph.stdio, first.inputs), first.exports, first.result.outputFiles[0].text);
  // SMCP's own module format is loaded as a plain ES module: its externals stay imports.
  const { graph, result, exports, inputs } = kind === "module" ? await runEsbuild(source, false) : first;
  if (graph.native.length) {
    throw new CliError(`the server needs native addons, which cannot run on workerd: ${graph.native.join(", ")}`);
  }
  const sdk = sdkOf(graph.stdio, inputs);
  const warnings = [
    ...[...graph.unsupported].map(([name, importer]) => `${importer} imports node:${name}, which workerd does not provide: the server fails if its start or a tool uses it`),
    ...[...graph.missing].map((name) => `${name} is required but not installed: that require() throws at run time (fine for an optional dependency)`),
  ];
  const text = result.outputFiles[0].text;
  const code = kind === "module" ? withPrelude(text, requirePrelude(graph.required)) : wrapModule(text, exports);
  const builtins = [...graph.externals].filter((s) => s.startsWith("node:")).sort();
  const bundled = inputs.map((f) => (/^[a-z-]+:/.test(f) ? f : deployedPath(path.resolve(f), source.packageDir)));
  return { kind, sdk, code, exports, externals: [...graph.externals].sort(), builtins, inputs: bundled, warnings };
}

/**
 * @param {import("./source.mjs").Source} source
 * @param {boolean} required externals through `__smcp_require` (module-swaps.mjs)
 */
async function runEsbuild(source, required) {
  const graph = emptyGraph();
  let result;
  try {
    result = await build({
      entryPoints: [source.entry],
      outfile: "tenant.js",
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "node",
      target: "es2022",
      conditions: CONDITIONS,
      nodePaths: source.nodePaths,
      define: LOCATION_DEFINES,
      legalComments: "none",
      logLevel: "silent",
      plugins: [moduleSwaps(graph, { packageDir: source.packageDir, fallbackDir: CLI_DIR, required }), fileLocations(source.packageDir)],
    });
  } catch (err) {
    throw new CliError(`bundling ${path.relative(process.cwd(), source.entry) || source.entry} failed:\n${buildErrors(err)}`);
  }
  const output = Object.values(result.metafile.outputs)[0];
  return { graph, result, exports: output?.exports ?? [], inputs: Object.keys(result.metafile.inputs) };
}

/**
 * @param {("v1" | "v2")[]} stdio
 * @param {string[]} inputs the bundled files
 * @returns {Sdk}
 */
function sdkOf(stdio, inputs) {
  if (stdio.includes("v2") || inputs.some((f) => SDK_V2.test(path.resolve(f)))) return "v2";
  if (stdio.includes("v1") || inputs.some((f) => SDK_V1.test(path.resolve(f)))) return "v1";
  return "unknown";
}

/**
 * @param {boolean} stdio the graph swapped an SDK stdio transport
 * @param {Sdk} sdk
 * @param {string[]} exports
 * @param {string} code the bundle (a pre-bundled SDK shows in it)
 * @returns {Kind}
 */
function kindOf(stdio, sdk, exports, code) {
  if (stdio) return "stdio";
  if (sdk === "unknown" && /class StdioServerTransport\b|\bStdioServerTransport\d* = class\b/.test(code)) {
    throw new CliError(
      "the server is pre-bundled: the MCP SDK is compiled into its files, so its stdio transport cannot be swapped for SMCP's; deploy the package's unbundled source, or a module exporting createServer({ config, env }) (--kind factory)",
    );
  }
  if (sdk === "unknown" && exports.includes("default") && !exports.includes("createServer")) return "module";
  if (exports.includes("createServer") || exports.includes("default")) return "factory";
  throw new CliError(
    "cannot tell how this server starts: it connects no SDK stdio transport and exports neither createServer nor a default function; pass --kind stdio or --kind factory",
  );
}

/** esbuild's errors, one line each with where they are. @param {unknown} err */
function buildErrors(err) {
  const errors = /** @type {{ errors?: import("esbuild").Message[] }} */ (err).errors;
  if (!errors?.length) return String(err instanceof Error ? err.message : err);
  const lines = errors.slice(0, 10).map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`);
  if (errors.some((e) => e.text.startsWith("Could not resolve"))) lines.push("  (install the package's dependencies first: npm install in its directory, or deploy it from where it is installed)");
  return lines.join("\n");
}
