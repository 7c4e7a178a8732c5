/**
 * Structured logs: one JSON object per line, so Workers observability and `wrangler
 * tail` can filter on fields. Callers pass identifiers and outcomes only; no key,
 * token or request body is ever logged.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function logEvent(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
