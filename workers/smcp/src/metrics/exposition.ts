/**
 * The Prometheus text exposition format, version 0.0.4: HELP and TYPE once per family,
 * every sample of a family together, label values escaped (backslash, double quote,
 * newline: tenant and tool names are chosen by tenants), histograms as cumulative
 * `_bucket{le=…}` lines ending with `+Inf`, then `_sum` and `_count`.
 *
 * A scrape shows at most `maxSeries` sample lines. A histogram series goes in whole or
 * not at all (a histogram without its `+Inf` bucket would not parse), and when anything
 * was left out the output says so twice: a `# truncated` comment and the gauge
 * `smcp_scrape_truncated 1`, so a dashboard can alert on it.
 */
import { BUCKET_BOUNDS_MS } from "./histogram";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = readonly (readonly [string, string])[];
export type FamilyType = "counter" | "gauge" | "histogram";

/** One series of a family: its lines (one for a counter or gauge, buckets + 2 for a histogram). */
export interface Series {
  lines: string[];
}

export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  series: Series[];
}

export const escapeLabelValue = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

const labelText = (labels: Labels): string => (labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`);

/** A number as the format writes it (integers plainly, `+Inf`, `NaN`). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

export const sample = (name: string, labels: Labels, value: number): Series => ({ lines: [`${name}${labelText(labels)} ${formatValue(value)}`] });

/** A histogram series from per-bucket counts (not cumulative, BUCKET_BOUNDS_MS then +Inf) and the sum in ms. */
export function histogramSeries(name: string, labels: Labels, buckets: readonly number[], sumMs: number): Series {
  const lines: string[] = [];
  let cumulative = 0;
  for (let i = 0; i < buckets.length; i++) {
    cumulative += buckets[i]!;
    const le = i < BUCKET_BOUNDS_MS.length ? formatValue(BUCKET_BOUNDS_MS[i]! / 1000) : "+Inf";
    lines.push(`${name}_bucket${labelText([...labels, ["le", le]])} ${cumulative}`);
  }
  lines.push(`${name}_sum${labelText(labels)} ${formatValue(sumMs / 1000)}`);
  lines.push(`${name}_count${labelText(labels)} ${cumulative}`);
  return { lines };
}

/** The exposition of `families`, at most `maxSeries` sample lines. */
export function render(families: readonly Family[], maxSeries: number): string {
  const out: string[] = [];
  let lines = 0;
  let truncated = false;
  for (const family of families) {
    const kept: string[] = [];
    for (const series of family.series) {
      if (lines + series.lines.length > maxSeries) {
        truncated = true;
        break;
      }
      lines += series.lines.length;
      kept.push(...series.lines);
    }
    if (kept.length === 0 && family.series.length > 0) continue;
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`, ...kept);
    if (truncated) break;
  }
  if (truncated) out.push(`# truncated: this scrape shows at most ${maxSeries} samples (SMCP_METRICS_MAX_SERIES)`);
  out.push("# HELP smcp_scrape_truncated 1 when this scrape left series out (see SMCP_METRICS_MAX_SERIES).", "# TYPE smcp_scrape_truncated gauge", `smcp_scrape_truncated ${truncated ? 1 : 0}`);
  return `${out.join("\n")}\n`;
}
