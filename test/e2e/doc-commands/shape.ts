/**
 * The JSON shapes the docs show in trailing comments, e.g. `{"ok":true,"version":…}` or
 * `{"checkpoint":{"seq":…,"hash":…}}`: JSON where `…` stands for any value (or, as a
 * member of an object or array, for more of them). Objects are open (an answer may
 * carry more keys than shown); every key shown must be there, and every value written
 * out must be equal.
 */
const ANY = "\u0000any";
/** Marks a string shape with `…` in it: the rest is a pattern. */
const PATTERN = "\u0001";

/** Parses a shape; throws with the shape's text when it is not one. */
export function parseShape(text: string): unknown {
  // Odd parts are string literals; `…` means something else inside and outside them.
  const parts = text.replace(/\.\.\./g, "…").split(/("(?:\\.|[^"\\])*")/);
  const json = parts
    .map((part, i) => {
      if (i % 2) return part.includes("…") ? JSON.stringify(PATTERN + JSON.parse(part)) : part;
      return part
        // `…` as a member: `{"a":1,…}`, `[x,…]`, `{…}` say only that there may be more.
        .replace(/,\s*…\s*(?=[}\]])/g, "")
        .replace(/([{[])\s*…\s*(?=[}\]])/g, "$1")
        // `…` as a value: any value.
        .replace(/…/g, JSON.stringify(ANY));
    })
    .join("");
  try {
    return JSON.parse(json);
  } catch {
    throw new Error(`not a JSON shape: ${text}`);
  }
}

/** Where `actual` differs from `shape` (a path and what was expected), or null when it fits. */
export function mismatch(shape: unknown, actual: unknown, at = "$"): string | null {
  if (shape === ANY) return actual === undefined ? `${at} is missing` : null;
  if (typeof shape === "string" && shape.startsWith(PATTERN)) {
    const pattern = shape.slice(1).split("…").map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return typeof actual === "string" && new RegExp(`^${pattern}$`, "s").test(actual) ? null : `${at} is ${JSON.stringify(actual)}, not ${shape.slice(1)}`;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(actual)) return `${at} is not an array`;
    for (let i = 0; i < shape.length; i++) {
      const m = mismatch(shape[i], actual[i], `${at}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (shape !== null && typeof shape === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return `${at} is not an object`;
    for (const [key, value] of Object.entries(shape)) {
      if (!(key in actual)) return `${at}.${key} is missing`;
      const m = mismatch(value, (actual as Record<string, unknown>)[key], `${at}.${key}`);
      if (m) return m;
    }
    return null;
  }
  return Object.is(shape, actual) ? null : `${at} is ${JSON.stringify(actual)}, not ${JSON.stringify(shape)}`;
}
