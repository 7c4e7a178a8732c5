/**
 * An SDK server's bundle as the platform runs it: the whole module in one function,
 * `export default async function (__smcp_require) { …; return { <exports> }; }`.
 *
 * Why: workerd runs a module's own top level in global scope, where timers, random
 * values and I/O are refused (server-everything sets timers as it starts). Wrapped, the
 * body runs when the harness calls it, inside the instance's request context. The body
 * imports nothing (module-swaps.mjs turns every external into `__smcp_require(name)`),
 * and esbuild puts a bundle's exports in one `export { … };` at its end, which becomes
 * the function's return value. A CommonJS entry (`module.exports`, `exports.x`) ends
 * instead with `export default require_<entry>();`: its `module.exports`, the default
 * export, which the function returns the same way (the entry then runs at the return).
 */
import { CliError } from "../errors.mjs";

const EXPORTS_AT_END = /\nexport\s*\{([^}]*)\};?\s*$/;
const COMMONJS_ENTRY_AT_END = /\nexport default (require_[\w$]+\(\));?\s*$/;

/**
 * @param {string} code esbuild's ES module output, with no import statements
 * @param {string[]} exports what the metafile says it exports
 */
export function wrapModule(code, exports) {
  let body = code.replace(/^#![^\n]*\n/, "");
  /** @type {string[]} */
  const fields = [];
  const tail = EXPORTS_AT_END.exec(body);
  const commonjs = tail ? null : COMMONJS_ENTRY_AT_END.exec(body);
  if (commonjs) {
    body = body.slice(0, commonjs.index);
    fields.push(`"default": ${commonjs[1]}`);
  } else if (tail) {
    body = body.slice(0, tail.index);
    for (const item of tail[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      const [local, exported = local] = item.split(/\s+as\s+/);
      fields.push(`${JSON.stringify(exported.replace(/^"|"$/g, ""))}: ${local}`);
    }
  }
  if (fields.length !== exports.length) {
    throw new CliError(`cannot wrap the bundle: esbuild reported exports ${exports.join(", ") || "none"} but its output ends with ${tail ? `export { ${tail[1].trim()} }` : commonjs ? `export default ${commonjs[1]}` : "no export list"}`);
  }
  return `export default async function (__smcp_require) {\n${body}\nreturn { ${fields.join(", ")} };\n}\n`;
}
