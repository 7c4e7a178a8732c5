/**
 * Renders the figure rows as one Markdown table (readable in a terminal, pastable
 * into an issue), followed by the targets and the footnotes.
 */
import { LABELS, SERVERS } from "./report.mjs";

export function renderTable(rows, verdicts, notes) {
  const header = ["figure", "floor", ...SERVERS.map((s) => LABELS[s]), "SMCP/floor", "SMCP/SDK Node", "SMCP/McpAgent"];
  const body = rows.map((row) => [
    row.label,
    row.floor?.text ?? "",
    ...SERVERS.map((s) => row.servers[s]?.text ?? ""),
    row.ratios.floor?.text ?? "",
    row.ratios.node?.text ?? "",
    row.ratios.agents?.text ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const out = [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line), ""];
  for (const v of verdicts) out.push(`${v.met ? "MET   " : "MISSED"}  ${v.target}: ${v.detail}`);
  if (notes.length) out.push("", ...notes.map((n) => `  ${n}`));
  return out.join("\n");
}
