// The bundler behind `smcp deploy` (packages/cli/src/bundle/), on real packages as npm
// installed them (never edited): server-memory and server-everything from the root
// node_modules, an `npm pack` tarball of server-memory, the SDK v2 example of examples/
// and SMCP's own module format. Each is bundled once; the tests read the result.
import { build as esbuild } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { bundleServer, deployBody, MAX_BODY_BYTES, packageFiles, resolveSource } from "../../packages/cli/src/bundle/index.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { parseCommandLine } from "../../packages/cli/src/args.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { commands } from "../../packages/cli/src/commands/index.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { CliError } from "../../packages/cli/src/errors.mjs";
// @ts-expect-error plain ESM with JSDoc types, no declaration file
import { extractTarball } from "../../packages/cli/src/bundle/tarball.mjs";

const REPO = path.resolve(import.meta.dirname, "../..");

interface Bundle {
  kind: string;
  sdk: string;
  code: string;
  exports: string[];
  externals: string[];
  inputs: string[];
  warnings: string[];
}
interface Built {
  bundle: Bundle;
  files: Record<string, { text: string } | { base64: string }>;
  body: { contentType: string; body: string; bytes: number };
}

const temp = mkdtempSync(path.join(tmpdir(), "smcp-bundle-test-"));

async function build(input: string, start: { argv?: string[]; env?: Record<string, string>; config?: unknown } = {}): Promise<Built> {
  const source = resolveSource(input, REPO);
  try {
    const bundle: Bundle = await bundleServer(source);
    const files = source.from === "file" || bundle.kind === "module" ? {} : packageFiles(source.packageDir);
    const body = deployBody(bundle, files, source, { argv: start.argv ?? [], env: start.env ?? {}, config: start.config });
    return { bundle, files, body };
  } finally {
    source.dispose();
  }
}

/**
 * Every module specifier the bundle still imports (static, dynamic, require), as esbuild
 * itself parses the bundle (comments such as JSDoc's `import('./x')` types are not imports).
 */
async function importsOf(code: string): Promise<string[]> {
  const result = await esbuild({
    stdin: { contents: code, sourcefile: "tenant.js" },
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    logLevel: "silent",
    plugins: [{ name: "all-external", setup: (b) => b.onResolve({ filter: /.*/ }, (args) => ({ path: args.path, external: true })) }],
  });
  // `<runtime>` is esbuild's own helpers, not an import of the bundle.
  return [...new Set(result.metafile.inputs["tenant.js"]!.imports.map((i) => i.path))].filter((p) => p !== "<runtime>").sort();
}

/** The names the wrapped bundle asks the platform's harness for. */
const requiredOf = (code: string) => [...new Set([...code.matchAll(/__smcp_require\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();

const PLATFORM_MODULE = /^(\.\/__smcp\/(stdio|fs|fs-promises)\.js|node:[a-z_0-9/]+)$/;
const PLATFORM_NAME = /^(smcp:(stdio|fs|fs\/promises)|node:[a-z_0-9/]+)$/;
const WRAPPED = /^export default async function \(__smcp_require\) \{\n/;

/** A made-up package under the test's temp dir: `files` by their paths in it (folders made as needed). */
function packageDir(name: string, files: Record<string, string>): string {
  const at = path.join(temp, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(at, file)), { recursive: true });
    writeFileSync(path.join(at, file), text);
  }
  return at;
}

let memory: Built;
let everything: Built;
let packed: Built;
let v2: Built;

beforeAll(async () => {
  const memoryDir = realpathSync(path.join(REPO, "node_modules/@modelcontextprotocol/server-memory"));
  // --ignore-scripts: packing a directory would otherwise run its `prepare` (a TypeScript build).
  execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", temp, memoryDir], { stdio: "pipe" });
  const tarball = readdirSync(temp).find((f) => f.endsWith(".tgz"))!;
  [memory, everything, packed, v2] = await Promise.all([
    build("@modelcontextprotocol/server-memory", { env: { MEMORY_FILE_PATH: "/data/memory.jsonl" } }),
    build("@modelcontextprotocol/server-everything", { argv: ["stdio"] }),
    build(path.join(temp, tarball)),
    build("examples/v2-server", { config: { greeting: "Hi" } }),
  ]);
}, 30_000);
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("smcp deploy's bundler, on SDK v1 stdio servers as published", () => {
  it.each([
    ["server-memory", () => memory],
    ["server-everything", () => everything],
    ["server-memory from an npm pack tarball", () => packed],
  ])("deployed:cli-deploy deployed:sdk-packages — %s: kind stdio, SDK v1, one wrapped function asking only for the platform's modules", async (_, get) => {
    const { bundle, body } = get();
    expect(bundle.kind).toBe("stdio");
    expect(bundle.sdk).toBe("v1");
    // Its top level runs when the harness calls it, so it may import nothing.
    expect(bundle.code).toMatch(WRAPPED);
    expect(await importsOf(bundle.code)).toEqual([]);
    const required = requiredOf(bundle.code);
    expect(required).toContain("smcp:stdio");
    expect(required.filter((s) => !PLATFORM_NAME.test(s))).toEqual([]);
    expect(bundle.builtins).toEqual(required.filter((s) => s.startsWith("node:")));
    expect(bundle.externals.filter((s) => !PLATFORM_MODULE.test(s))).toEqual([]);
    // The SDK's real stdio transport and its AJV provider are not in the graph; the Workers-safe provider is.
    expect(bundle.inputs.filter((f) => /sdk\/dist\/[^/]+\/server\/stdio\.js$|\/node_modules\/ajv\//.test(f))).toEqual([]);
    expect(bundle.inputs.some((f) => f.endsWith("/sdk/dist/esm/validation/cfworker-provider.js"))).toBe(true);
    expect(bundle.inputs.some((f) => f.includes("/node_modules/@cfworker/json-schema/"))).toBe(true);
    expect(bundle.code).not.toMatch(/import\.meta\b/);
    expect(body.contentType).toBe("application/json");
    expect(body.bytes).toBeLessThan(MAX_BODY_BYTES);
  });

  it("deployed:cli-deploy — import.meta.url is each file's place under /app, a dependency's under /app/node_modules", () => {
    expect(memory.bundle.code).toContain(`"file:///app/dist/index.js"`);
    expect(everything.bundle.code).toContain(`"file:///app/dist/resources/files.js"`);
    expect(everything.bundle.code).toContain(`"file:///app/dist/resources/index.js"`);
    expect(memory.bundle.inputs).toContain("/app/dist/index.js");
    expect(memory.bundle.inputs.some((f) => f.startsWith("/app/node_modules/@modelcontextprotocol/sdk/dist/esm/"))).toBe(true);
  });

  it("deployed:cli-deploy — the package's run-time files travel with it: server-everything's dist/docs/*.md and package.json", () => {
    const docs = readdirSync(path.join(REPO, "node_modules/@modelcontextprotocol/server-everything/dist/docs"));
    expect(docs.length).toBeGreaterThan(3);
    for (const name of docs) expect(everything.files[`/app/dist/docs/${name}`], name).toHaveProperty("text");
    expect(everything.files["/app/package.json"]).toHaveProperty("text");
    // Code is in the bundle, tests are not the server's.
    expect(Object.keys(everything.files).filter((f) => /\.(m?js|map|d\.ts)$|__tests__/.test(f))).toEqual([]);
    expect(Object.keys(packed.files).sort()).toEqual(Object.keys(memory.files).sort());
  });

  it("deployed:cli-deploy — the body is sdk-bundle/1 with the start options", () => {
    const body = JSON.parse(everything.body.body);
    expect(Object.keys(body).sort()).toEqual(["argv", "builtins", "code", "env", "files", "format", "kind", "package", "root", "sdk"]);
    expect(body).toMatchObject({ format: "sdk-bundle/1", kind: "stdio", sdk: "v1", root: "/app", argv: ["stdio"], env: {} });
    expect(body.package).toEqual({ name: "@modelcontextprotocol/server-everything", version: "2026.8.31" });
    expect(JSON.parse(memory.body.body).env).toEqual({ MEMORY_FILE_PATH: "/data/memory.jsonl" });
  });

  it("deployed:cli-deploy — server-everything's express and SSE transports import node:net and node:tls: a warning, not a refusal", () => {
    expect(everything.bundle.warnings.join("\n")).toMatch(/node:net/);
    expect(memory.bundle.warnings).toEqual([]);
  });
});

describe("smcp deploy's bundler, on other kinds", () => {
  it("deployed:cli-deploy deployed:sdk-packages — examples/v2-server: kind factory, SDK v2, createServer exported, config in the body", async () => {
    expect(v2.bundle).toMatchObject({ kind: "factory", sdk: "v2" });
    expect(v2.bundle.exports).toContain("createServer");
    expect(await importsOf(v2.bundle.code)).toEqual([]);
    expect(requiredOf(v2.bundle.code)).toContain("smcp:fs/promises");
    expect(v2.bundle.code).toMatch(/return \{ "createServer": createServer[^}]*\};\n\}\n$/);
    const body = JSON.parse(v2.body.body);
    expect(body).toMatchObject({ format: "sdk-bundle/1", kind: "factory", sdk: "v2", config: { greeting: "Hi" }, package: { name: "smcp-example-v2-server" } });
  });

  it("deployed:cli-deploy — a module in SMCP's own format goes as the raw module, as before", async () => {
    const { bundle, body } = await build("examples/unit-converter.js");
    expect(bundle).toMatchObject({ kind: "module", sdk: "unknown", externals: [] });
    expect(body.contentType).toBe("application/javascript");
    expect(body.body).toBe(bundle.code);
  });

  it("deployed:cli-deploy — refuses native addons, warns about child_process, refuses a body over 10 MiB with its size", async () => {
    const native = packageDir("native", { "package.json": `{"name":"native","main":"index.js"}`, "index.js": `import "./addon.node"; export default function createServer() {}`, "addon.node": "" });
    await expect(build(native)).rejects.toThrow(/native addons.*\/app\/addon\.node/);
    await expect(build(native)).rejects.toBeInstanceOf(CliError);

    const spawn = packageDir("spawn", { "package.json": `{"name":"spawn"}`, "index.js": `import { spawn } from "child_process"; export function createServer() { return spawn; }` });
    const spawned = await build(spawn);
    expect(spawned.bundle.kind).toBe("factory");
    expect(spawned.bundle.warnings).toEqual([expect.stringMatching(/^\/app\/index\.js imports node:child_process/)]);

    const big = packageDir("big", { "package.json": `{"name":"big"}`, "index.js": `export function createServer() {}`, "data.txt": "x".repeat(MAX_BODY_BYTES) });
    await expect(build(big)).rejects.toThrow(/the deployment is 10\.00 MiB \(bundle [\d.]+ KiB, package files 10\.00 MiB\), over the 10\.00 MiB limit/);
  });

  it("deployed:cli-deploy deployed:sdk-packages — a CommonJS entry on SDK 1.0's layout (dist/server/stdio.js): kind stdio, wrapped, dual packages required as CommonJS", async () => {
    // server-github and server-postgres pin SDK 1.0.1, which has no dist/esm/; mcp-sqlite and
    // @antv/mcp-server-chart are CommonJS; pg require()s pg-pool, whose "import" export is an ES wrapper.
    const at = packageDir("cjs-sdk10", {
      "package.json": `{"name":"cjs-sdk10","main":"index.js"}`,
      "index.js": `#!/usr/bin/env node\n"use strict";\nconst { StdioServerTransport } = require("@modelcontextprotocol/sdk/server/stdio.js");\nconst Pool = require("dual");\nnew StdioServerTransport();\nmodule.exports = { Pool };\n`,
      "node_modules/@modelcontextprotocol/sdk/package.json": `{"name":"@modelcontextprotocol/sdk","version":"1.0.1","type":"module","exports":{"./*":"./dist/*"}}`,
      "node_modules/@modelcontextprotocol/sdk/dist/server/stdio.js": `export class StdioServerTransport { start() { process.stdin.on("data", () => {}); } }\n`,
      "node_modules/dual/package.json": `{"name":"dual","exports":{".":{"import":"./esm.mjs","require":"./cjs.js"}}}`,
      "node_modules/dual/cjs.js": `module.exports = class Pool {};\n`,
      "node_modules/dual/esm.mjs": `import Pool from "./cjs.js";\nexport default Pool;\n`,
    });
    const { bundle } = await build(at);
    expect(bundle).toMatchObject({ kind: "stdio", sdk: "v1", exports: ["default"] });
    expect(bundle.code).toMatch(WRAPPED);
    expect(bundle.code).toMatch(/\nreturn \{ "default": require_index\(\) \};\n\}\n$/);
    expect(requiredOf(bundle.code)).toContain("smcp:stdio");
    expect(bundle.inputs.filter((f) => /server\/stdio\.js$|dual\/esm\.mjs$/.test(f))).toEqual([]);
    expect(bundle.inputs.some((f) => f.endsWith("dual/cjs.js"))).toBe(true);
    expect(await importsOf(bundle.code)).toEqual([]);
  });

  it("deployed:cli-deploy — a require() of a package not installed throws when required (optional peers), and a pre-bundled SDK is refused with what to do", async () => {
    // As cosmiconfig does with `typescript`: a guarded require of an optional peer dependency.
    const optional = packageDir("optional-peer", {
      "package.json": `{"name":"optional-peer","main":"index.mjs"}`,
      "index.mjs": `import loader from "./loader.cjs";\nexport function createServer() { return { connect: async () => {}, loader }; }\n`,
      "loader.cjs": `let ts = null;\ntry { ts = require("typescript-not-installed"); } catch {}\nmodule.exports = { ts };\n`,
    });
    const { bundle } = await build(optional);
    expect(bundle.kind).toBe("factory");
    expect(bundle.warnings).toEqual([expect.stringMatching(/^typescript-not-installed is required but not installed/)]);
    expect(bundle.code).toContain(`Cannot find module 'typescript-not-installed' (it was not installed with the package when it was deployed)`);
    // An ES import of a missing package is still a bundling error: nothing guards it.
    const missing = packageDir("missing-import", { "package.json": `{"name":"missing-import","main":"index.mjs"}`, "index.mjs": `import x from "not-installed-anywhere";\nexport function createServer() { return x; }\n` });
    await expect(build(missing)).rejects.toThrow(/not-installed-anywhere/);
    // The SDK compiled into the file (bun build, as server-budget-allocator's bin): nothing to swap.
    const prebundled = packageDir("prebundled", {
      "package.json": `{"name":"prebundled","bin":"cli.js"}`,
      "cli.js": `class StdioServerTransport { start() { process.stdin.on("data", () => {}); } }\nnew StdioServerTransport().start();\n`,
    });
    await expect(build(prebundled)).rejects.toThrow(/pre-bundled: the MCP SDK is compiled into its files/);
  });

  it("deployed:cli-deploy admin:cli — deploy's --arg and --env repeat, in order; --kind is a choice", () => {
    const parsed = parseCommandLine(["deploy", "acme", "mem", "pkg", "--arg", "a", "--arg=--b", "--env", "K=V", "--kind", "stdio"], commands);
    expect(parsed.opts).toMatchObject({ arg: ["a", "--b"], env: ["K=V"], kind: "stdio", config: undefined });
    expect(parseCommandLine(["deploy", "acme", "mem", "pkg"], commands).opts).toMatchObject({ arg: [], env: [] });
    expect(() => parseCommandLine(["deploy", "acme", "mem", "pkg", "--kind", "module"], commands)).toThrow(/--kind must be one of stdio, factory/);
  });

  it.each(["pax", "gnu", "ustar"])("deployed:cli-deploy — the tarball reader takes %s archives, long names included", (format) => {
    const src = path.join(temp, `tar-${format}`);
    const long = path.join("package", "dist", "a".repeat(60), "b".repeat(60), "doc.md");
    mkdirSync(path.join(src, path.dirname(long)), { recursive: true });
    writeFileSync(path.join(src, long), "long");
    writeFileSync(path.join(src, "package", "package.json"), "{}");
    const tgz = path.join(temp, `${format}.tgz`);
    execFileSync("tar", [`--format=${format}`, "-czf", tgz, "-C", src, "package"]);
    const out = path.join(temp, `out-${format}`);
    mkdirSync(out);
    const dir = extractTarball(tgz, out);
    expect(dir).toBe(path.join(out, "package"));
    expect(readFileSync(path.join(out, long), "utf8")).toBe("long");
    expect(readFileSync(path.join(dir, "package.json"), "utf8")).toBe("{}");
  });
});
