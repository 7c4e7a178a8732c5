/**
 * A small route table: method + path pattern -> handler. Patterns name their
 * segments (`:tenant`); each named segment must be a valid URL name
 * (`[a-z0-9][a-z0-9-]{0,62}`) except those listed as opaque ids.
 *
 * A table is compiled on its first use (per array, which must not change after that):
 * each pattern's segments become a literal to compare or a check to run, grouped by
 * segment count, so a request does no string work on the patterns, only on its path.
 */
import { isValidSegment } from "@smcp/runtime";

export type Params = Record<string, string>;

export interface Route<H> {
  method: string;
  pattern: string;
  handler: H;
}

export type Match<H> = { kind: "found"; handler: H; params: Params } | { kind: "method-not-allowed"; allow: string } | { kind: "none" };

/** Segments that carry ids minted by the platform rather than admin-chosen names. */
const OPAQUE = new Set(["key", "session", "grant", "task"]);
const OPAQUE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Segments whose handler checks them itself, so a bad one gets its 400 with the rule (secret names). */
const CHECKED_BY_HANDLER = new Set(["secret"]);
const ANY_SEGMENT = /^[^/]{1,256}$/;

type Segment = { literal: string } | { name: string; ok: (part: string) => boolean };
interface Compiled<H> {
  route: Route<H>;
  segments: Segment[];
}

const isOpaqueId = (p: string) => OPAQUE_ID.test(p);
const isAnySegment = (p: string) => ANY_SEGMENT.test(p);

function compileSegment(w: string): Segment {
  if (!w.startsWith(":")) return { literal: w };
  const name = w.slice(1);
  return { name, ok: CHECKED_BY_HANDLER.has(name) ? isAnySegment : OPAQUE.has(name) ? isOpaqueId : isValidSegment };
}

/** By segment count, each list in table order (the first match wins, as in the table). */
const compiledTables = new WeakMap<readonly Route<unknown>[], Map<number, Compiled<unknown>[]>>();

function compiled<H>(routes: readonly Route<H>[]): Map<number, Compiled<H>[]> {
  let table = compiledTables.get(routes) as Map<number, Compiled<H>[]> | undefined;
  if (table) return table;
  table = new Map();
  for (const route of routes) {
    const segments = route.pattern.split("/").filter(Boolean).map(compileSegment);
    let list = table.get(segments.length);
    if (!list) table.set(segments.length, (list = []));
    list.push({ route, segments });
  }
  compiledTables.set(routes, table as Map<number, Compiled<unknown>[]>);
  return table;
}

export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): Match<H> {
  const parts = path.split("/").filter(Boolean);
  const candidates = compiled(routes).get(parts.length);
  if (!candidates) return { kind: "none" };
  const allowed: string[] = [];
  for (const { route, segments } of candidates) {
    const params = matchSegments(segments, parts);
    if (!params) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) return { kind: "found", handler: route.handler, params };
    allowed.push(route.method);
  }
  return allowed.length ? { kind: "method-not-allowed", allow: [...new Set(allowed)].join(", ") } : { kind: "none" };
}

function matchSegments(segments: Segment[], parts: string[]): Params | null {
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const p = parts[i]!;
    if ("literal" in s) {
      if (s.literal !== p) return null;
    } else {
      if (!s.ok(p)) return null;
      params[s.name] = p;
    }
  }
  return params;
}
