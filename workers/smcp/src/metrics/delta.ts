/**
 * A metrics delta: what a recorder (a session, or an isolate's stateless lane) counted
 * since it last handed its counts to the tenant, per minute and per series. It is plain
 * JSON, so it rides in the state a session already writes per request and in its
 * existing report, and folds into the tenant's minute rows by element-wise sums.
 *
 * Bounded where a client chooses names: the method label is one of a closed list (any
 * other method counts as `other`), a tool name is cut to `MAX_TOOL_CHARS`, a minute holds
 * at most `MAX_SERIES_PER_MINUTE` series (further tools count as `OTHER_TOOL`), and a delta
 * keeps at most `MAX_MINUTES` minutes (the oldest go first: a recorder that cannot reach
 * its tenant for that long loses the oldest minutes rather than grow).
 */
import { BUCKETS, bucketIndex } from "./histogram";
import { ERROR_KINDS, errorKindIndex, type ErrorKind } from "./error-kinds";

export const MINUTE_MS = 60_000;
export const MAX_TOOL_CHARS = 128;
export const MAX_SERIES_PER_MINUTE = 64;
export const MAX_MINUTES = 30;
/** The series every tool past a cap counts in (no tool may have this name: it is not a valid tool name of any built-in). */
export const OTHER_TOOL = "_other";

/** Methods counted under their own name; any other is `other`. */
export const KNOWN_METHODS = new Set([
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/read",
  "resources/templates/list",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "server/discover",
  "subscriptions/listen",
  "tasks/get",
  "tasks/list",
  "tasks/cancel",
  "tasks/result",
  "tasks/update",
]);

/** One series' counts in one minute: requests, errors by kind (ERROR_KINDS order), latency buckets (BUCKET_BOUNDS_MS order, then +Inf), latency sum in ms. */
export interface Cell {
  n: number;
  e: number[];
  h: number[];
  s: number;
}

/** Minute start (ms, as text) -> series key (`method\ttool`) -> counts. */
export type MetricsDelta = Record<string, Record<string, Cell>>;

export const methodLabel = (method: string): string => (KNOWN_METHODS.has(method) ? method : "other");
export const toolLabel = (tool: string | null | undefined): string => (tool ? (tool.length > MAX_TOOL_CHARS ? tool.slice(0, MAX_TOOL_CHARS) : tool) : "");
export const seriesKey = (method: string, tool: string) => `${method}\t${tool}`;
export function splitKey(key: string): { method: string; tool: string } {
  const tab = key.indexOf("\t");
  return { method: key.slice(0, tab), tool: key.slice(tab + 1) };
}
export const minuteOf = (at: number): number => at - (at % MINUTE_MS);
export const emptyCell = (): Cell => ({ n: 0, e: new Array(ERROR_KINDS.length).fill(0), h: new Array(BUCKETS).fill(0), s: 0 });

/**
 * Counts one request: its method and tool as the client named them, its error kind (null:
 * it succeeded), how long it took. True when it added a series cell (the delta grew).
 */
export function record(delta: MetricsDelta, at: number, method: string, tool: string | null, kind: ErrorKind | null, durationMs: number): boolean {
  const minute = String(minuteOf(at));
  let series = delta[minute];
  if (!series) {
    series = delta[minute] = {};
    trimMinutes(delta);
  }
  const m = methodLabel(method);
  let key = seriesKey(m, toolLabel(tool));
  if (!(key in series) && Object.keys(series).length >= MAX_SERIES_PER_MINUTE) key = seriesKey(m, OTHER_TOOL);
  const added = !(key in series);
  const cell = (series[key] ??= emptyCell());
  cell.n++;
  if (kind) cell.e[errorKindIndex(kind)]!++;
  const ms = Math.max(0, durationMs);
  cell.h[bucketIndex(ms)]!++;
  cell.s += ms;
  return added;
}

/** Adds `from` into `into` (same bounds as recording). */
export function merge(into: MetricsDelta, from: MetricsDelta): MetricsDelta {
  for (const [minute, series] of Object.entries(from)) {
    const target = (into[minute] ??= {});
    for (const [key, cell] of Object.entries(series)) {
      const cellKey = key in target || Object.keys(target).length < MAX_SERIES_PER_MINUTE ? key : seriesKey(splitKey(key).method, OTHER_TOOL);
      addCell((target[cellKey] ??= emptyCell()), cell);
    }
  }
  trimMinutes(into);
  return into;
}

export function addCell(into: Cell, from: Cell): void {
  into.n += from.n;
  into.s += from.s;
  for (let i = 0; i < into.e.length; i++) into.e[i]! += from.e[i] ?? 0;
  for (let i = 0; i < into.h.length; i++) into.h[i]! += from.h[i] ?? 0;
}

export const isEmpty = (delta: MetricsDelta): boolean => Object.keys(delta).length === 0;

/** Requests counted in a delta (for flush thresholds and tests). */
export const requestsIn = (delta: MetricsDelta): number =>
  Object.values(delta).reduce((t, series) => t + Object.values(series).reduce((u, c) => u + c.n, 0), 0);

function trimMinutes(delta: MetricsDelta): void {
  const minutes = Object.keys(delta);
  if (minutes.length <= MAX_MINUTES) return;
  minutes.sort((a, b) => Number(a) - Number(b));
  for (const m of minutes.slice(0, minutes.length - MAX_MINUTES)) delete delta[m];
}

/**
 * Whether an untrusted value (an RPC argument) is a delta of the right shape; the tenant
 * folds nothing else. Numbers must be finite and non-negative, arrays of the right length.
 */
export function isDelta(value: unknown): value is MetricsDelta {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const minutes = Object.entries(value as Record<string, unknown>);
  if (minutes.length > MAX_MINUTES) return false;
  for (const [minute, series] of minutes) {
    if (!/^\d{1,15}$/.test(minute) || Number(minute) % MINUTE_MS !== 0) return false;
    if (typeof series !== "object" || series === null) return false;
    const cells = Object.entries(series as Record<string, unknown>);
    if (cells.length > MAX_SERIES_PER_MINUTE) return false;
    for (const [key, cell] of cells) {
      const { method, tool } = splitKey(key);
      if (key.indexOf("\t") < 0 || (method !== "other" && !KNOWN_METHODS.has(method)) || tool.length > MAX_TOOL_CHARS) return false;
      const c = cell as Partial<Cell> | null;
      if (!c || !count(c.n) || !count(c.s) || !Array.isArray(c.e) || !Array.isArray(c.h)) return false;
      if (c.e.length !== ERROR_KINDS.length || c.h.length !== BUCKETS || !c.e.every(count) || !c.h.every(count)) return false;
    }
  }
  return true;
}

const count = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
