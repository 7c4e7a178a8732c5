/**
 * CommonJS code in the bundle that `require()`s an external module (a Node built-in, the
 * fs shim) meets esbuild's `__require`, which calls a `require` in scope or throws; an ES
 * module in workerd has none. The prelude imports each such module and declares a
 * module-level `require` that answers from them: what `require` returns in Node is the
 * module's default export (`module.exports`), so that is what it answers, or the
 * namespace for a module without one (the platform's stdio bridge).
 */

/**
 * @param {Set<string>} required the external specifiers required from CommonJS code
 * @returns {string} JavaScript to put before the bundle ("" when nothing is required)
 */
export function requirePrelude(required) {
  if (required.size === 0) return "";
  const specifiers = [...required].sort();
  const imports = specifiers.map((s, i) => `import * as __smcp_required_${i} from ${JSON.stringify(s)};`);
  const table = specifiers.map((s, i) => `${JSON.stringify(s)}: __smcp_required_${i}`).join(", ");
  return `${imports.join("\n")}
const require = ((modules) => (id) => {
  const m = Object.hasOwn(modules, id) ? modules[id] : undefined;
  if (!m) throw Object.assign(new Error(\`Cannot find module '\${id}'\`), { code: "MODULE_NOT_FOUND" });
  return "default" in m ? m.default : m;
})({ ${table} });
`;
}

/**
 * The bundle with the prelude at its top, after a hashbang if it has one.
 * @param {string} code
 * @param {string} prelude
 */
export function withPrelude(code, prelude) {
  if (!prelude) return code;
  const hashbang = /^#![^\n]*\n/.exec(code)?.[0] ?? "";
  return hashbang + prelude + code.slice(hashbang.length);
}
