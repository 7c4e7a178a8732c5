/**
 * The module swaps of the bundle, as one esbuild plugin (onResolve only): the closed list
 * docs/tenant-servers.md documents, and nothing else.
 *
 *   SDK stdio transport (v1 `.../sdk/dist/[<x>/]server/stdio.js`, v2 `@modelcontextprotocol/server/stdio`)
 *                                    -> external `./__smcp/stdio.js` (the platform's bridge)
 *   `fs`, `node:fs`                  -> external `./__smcp/fs.js` (the platform's persistent files)
 *   `fs/promises`, `node:fs/promises` -> external `./__smcp/fs-promises.js`
 *   SDK v1 `.../sdk/dist/<x>/validation/ajv-provider.js`
 *                                    -> a bundled re-export of the SDK's own cfworker-provider.js
 *   any other Node built-in          -> external `node:<name>` (workerd provides it)
 *
 * For an SDK server (`{ required: true }`) the externals are not imports: each becomes a
 * tiny CommonJS module of the bundle, `module.exports = __smcp_require(name)`, which the
 * platform's harness answers (wrap-module.mjs says why the bundle may import nothing).
 * The names it asks for: `smcp:stdio`, `smcp:fs`, `smcp:fs/promises`, `node:<built-in>`,
 * `cloudflare:<module>`.
 *
 * It also records what the graph holds, for the decisions made after the build (which
 * kind, which SDK, what to refuse or warn about): it never refuses by itself, so that a
 * refusal can name every offending file at once.
 */
import { builtinModules } from "node:module";
import path from "node:path";
import { deployedPath } from "./file-locations.mjs";

/** What the harness calls the platform's modules (the rest keep their specifier). */
const REQUIRED_NAMES = /** @type {Record<string, string>} */ ({
  "./__smcp/stdio.js": "smcp:stdio",
  "./__smcp/fs.js": "smcp:fs",
  "./__smcp/fs-promises.js": "smcp:fs/promises",
});

/** Built-ins whose use means a process, a raw socket or a thread, which workerd cannot give. */
const UNSUPPORTED = new Set(["child_process", "net", "dgram", "tls", "worker_threads", "cluster"]);

const SEP = String.raw`[\\/]`;
// `dist/esm/`, `dist/cjs/` since SDK 1.1; SDK 1.0.x put its ES modules straight in `dist/`.
const SDK_V1 = String.raw`@modelcontextprotocol${SEP}sdk${SEP}dist${SEP}(?:[^\\/]+${SEP})?`;
const STDIO_V1 = new RegExp(`${SDK_V1}server${SEP}stdio\\.js$`);
const STDIO_V2 = new RegExp(`@modelcontextprotocol${SEP}server${SEP}dist${SEP}stdio\\.[mc]?js$`);
const AJV_V1 = new RegExp(`${SDK_V1}validation${SEP}ajv-provider\\.js$`);

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const BUILTIN = new RegExp(`^(node:.+|(${builtinModules.filter((m) => !m.startsWith("_")).map(escape).join("|")}))$`);

/**
 * What the module graph turned out to hold.
 * @typedef {object} Graph
 * @property {("v1" | "v2")[]} stdio the stdio transports swapped for the bridge
 * @property {string[]} native `.node` files (native addons)
 * @property {Map<string, string>} unsupported built-in -> the first file importing it
 * @property {Set<string>} required external specifiers that CommonJS code `require()`s
 * @property {Set<string>} externals every external specifier of the bundle
 * @property {Set<string>} missing packages a require() names that are not installed (they throw when required)
 */

/** @returns {Graph} */
export function emptyGraph() {
  return { stdio: [], native: [], unsupported: new Map(), required: new Set(), externals: new Set(), missing: new Set() };
}

/**
 * @param {Graph} graph filled in as esbuild resolves
 * @param {{ packageDir: string, fallbackDir: string, required?: boolean }} dirs `fallbackDir` resolves
 *   `@cfworker/json-schema` when the package lacks it (the CLI's own copy); `required`:
 *   externals through `__smcp_require` (an SDK server) rather than imports (SMCP's module format)
 * @returns {import("esbuild").Plugin}
 */
export function moduleSwaps(graph, { packageDir, fallbackDir, required = false }) {
  return {
    name: "smcp-module-swaps",
    setup(build) {
      /**
       * @param {string} specifier
       * @param {import("esbuild").OnResolveArgs} args
       */
      const external = (specifier, args) => {
        graph.externals.add(specifier);
        if (args.kind === "require-call") graph.required.add(specifier);
        if (required) return { path: REQUIRED_NAMES[specifier] ?? specifier, namespace: "smcp-required" };
        return { path: specifier, external: true };
      };
      // A module's `require()` answers its default export (module.exports in Node); the
      // platform's modules and the Node built-ins all have one. cloudflare:* modules are namespaces.
      build.onLoad({ filter: /.*/, namespace: "smcp-required" }, (args) => ({
        contents: args.path.startsWith("cloudflare:")
          ? `module.exports = __smcp_require(${JSON.stringify(args.path)});\n`
          : `var m = __smcp_require(${JSON.stringify(args.path)});\nmodule.exports = m !== null && typeof m === "object" && "default" in m ? m.default : m;\n`,
        loader: "js",
      }));
      /** Resolves as esbuild would without this plugin. @param {import("esbuild").OnResolveArgs} args */
      const resolvePlainly = (args, resolveDir = args.resolveDir) =>
        build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir, pluginData: { plain: true } });

      build.onResolve({ filter: /\.node$/ }, (args) => {
        graph.native.push(deployedPath(path.resolve(args.resolveDir, args.path), packageDir));
        return { path: args.path, external: true };
      });

      build.onResolve({ filter: BUILTIN }, (args) => {
        const name = args.path.replace(/^node:/, "");
        if (name === "fs") return external("./__smcp/fs.js", args);
        if (name === "fs/promises") return external("./__smcp/fs-promises.js", args);
        const top = name.split("/")[0];
        if (UNSUPPORTED.has(top) && !graph.unsupported.has(top)) graph.unsupported.set(top, deployedPath(args.importer, packageDir));
        return external(`node:${name}`, args);
      });

      build.onResolve({ filter: /^cloudflare:/ }, (args) => external(args.path, args));

      build.onResolve({ filter: /stdio(\.[mc]?js)?$/ }, async (args) => {
        if (args.pluginData?.plain) return undefined;
        const resolved = await resolvePlainly(args);
        const version = STDIO_V1.test(resolved.path) ? "v1" : STDIO_V2.test(resolved.path) ? "v2" : undefined;
        if (!version) return undefined;
        graph.stdio.push(version);
        return external("./__smcp/stdio.js", args);
      });

      build.onResolve({ filter: /ajv-provider(\.js)?$/ }, async (args) => {
        if (args.pluginData?.plain) return undefined;
        const resolved = await resolvePlainly(args);
        if (!AJV_V1.test(resolved.path)) return undefined;
        // Named by its place in the deployed package: the path shows in the bundle's comments.
        return { path: deployedPath(resolved.path, packageDir), namespace: "smcp-ajv-shim", pluginData: { dir: path.dirname(resolved.path) } };
      });
      // The SDK ships the Workers-safe validator beside the AJV one, with the same interface.
      build.onLoad({ filter: /.*/, namespace: "smcp-ajv-shim" }, (args) => ({
        contents: `export { CfWorkerJsonSchemaValidator as AjvJsonSchemaValidator } from "./cfworker-provider.js";\n`,
        resolveDir: args.pluginData.dir,
        loader: "js",
      }));

      // A require() of a package that is not installed (an optional peer dependency, such as
      // cosmiconfig's `typescript`) becomes a module that throws when required, as Node's
      // require would: packages that guard it with try/catch carry on.
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.plain || args.kind !== "require-call") return undefined;
        const resolved = await resolvePlainly(args);
        if (resolved.errors.length === 0) return undefined;
        graph.missing.add(args.path);
        return { path: args.path, namespace: "smcp-missing" };
      });
      build.onLoad({ filter: /.*/, namespace: "smcp-missing" }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}' (it was not installed with the package when it was deployed)`)}), { code: "MODULE_NOT_FOUND" });\n`,
        loader: "js",
      }));

      build.onResolve({ filter: /^@cfworker\/json-schema$/ }, async (args) => {
        if (args.pluginData?.plain) return undefined;
        const resolved = await resolvePlainly(args);
        if (resolved.errors.length === 0) return undefined;
        const fallback = await resolvePlainly(args, fallbackDir);
        return fallback.errors.length === 0 ? { path: fallback.path } : undefined;
      });
    },
  };
}
