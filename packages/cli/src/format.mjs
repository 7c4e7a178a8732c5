/**
 * Text layout for people: aligned tables, "label  value" blocks, relative times,
 * sizes and durations. Pure functions from data to strings (the clock is a
 * parameter), so every command renders the same way and none of them pads by hand.
 * `--json` output never comes through here: scripts get the API's JSON untouched.
 */

/**
 * An aligned table: a header row, then one line per row, columns two spaces apart.
 * Columns whose cells are all numbers are right-aligned; the last column is not padded.
 * @param {string[]} header
 * @param {(string | number | null | undefined)[][]} rows
 * @returns {string}
 */
export function table(header, rows) {
  const cells = rows.map((row) => header.map((_, i) => cell(row[i])));
  const isNumber = (/** @type {string} */ text) => /^-?[\d.,]+$/.test(text);
  const numeric = header.map((_, i) => cells.some((row) => isNumber(row[i])) && cells.every((row) => isNumber(row[i]) || row[i] === "-"));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (/** @type {string[]} */ row) =>
    row
      .map((text, i) => (numeric[i] ? text.padStart(widths[i]) : i === row.length - 1 ? text : text.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}

/**
 * A block of `label  value` lines with the values aligned; null values are left out.
 * @param {[string, string | number | null | undefined][]} pairs
 * @returns {string}
 */
export function fields(pairs) {
  const shown = pairs.filter(([, v]) => v !== null && v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/** @param {unknown} value */
function cell(value) {
  return value === null || value === undefined || value === "" ? "-" : String(value);
}

/**
 * "3m ago", "in 27m", "now": the largest whole unit, which is what a glance needs.
 * @param {number | null | undefined} at epoch milliseconds
 * @param {number} now
 */
export function relativeTime(at, now = Date.now()) {
  if (at === null || at === undefined) return "-";
  const delta = at - now;
  const abs = Math.abs(delta);
  if (abs < 1000) return "now";
  const units = /** @type {const} */ ([["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]]);
  const [unit, size] = units.find(([, size]) => abs >= size) ?? units[3];
  const amount = `${Math.floor(abs / size)}${unit}`;
  return delta < 0 ? `${amount} ago` : `in ${amount}`;
}

/**
 * "2025-06-01 12:00:05Z (3m ago)": exact for the record, relative for the reader.
 * @param {number | null | undefined} at
 * @param {number} now
 */
export function timestamp(at, now = Date.now()) {
  if (at === null || at === undefined) return "-";
  return `${clock(at, true)} (${relativeTime(at, now)})`;
}

/**
 * UTC date and time to the second, or the time alone.
 * @param {number} at
 * @param {boolean} [withDate]
 */
export function clock(at, withDate = false) {
  const iso = new Date(at).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : iso.slice(11, 19);
}

/** @param {number} n */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {number} ms */
export function duration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * @param {string} text
 * @param {number} max
 */
export function truncate(text, max) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * @param {number} n
 * @param {string} noun singular
 */
export function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
