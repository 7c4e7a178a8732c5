/**
 * A small route table: method + path pattern -> handler. Patterns name their
 * segments (`:tenant`); each named segment must be a valid URL name
 * (`[a-z0-9][a-z0-9-]{0,62}`) except those listed as opaque ids.
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

export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): Match<H> {
  const parts = path.split("/").filter(Boolean);
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, parts);
    if (!params) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) return { kind: "found", handler: route.handler, params };
    allowed.push(route.method);
  }
  return allowed.length ? { kind: "method-not-allowed", allow: [...new Set(allowed)].join(", ") } : { kind: "none" };
}

const splitPatterns = new Map<string, string[]>();

function matchPattern(pattern: string, parts: string[]): Params | null {
  let want = splitPatterns.get(pattern);
  if (!want) splitPatterns.set(pattern, (want = pattern.split("/").filter(Boolean)));
  if (want.length !== parts.length) return null;
  const params: Params = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const p = parts[i]!;
    if (w.startsWith(":")) {
      const name = w.slice(1);
      const ok = CHECKED_BY_HANDLER.has(name) ? ANY_SEGMENT.test(p) : OPAQUE.has(name) ? OPAQUE_ID.test(p) : isValidSegment(p);
      if (!ok) return null;
      params[name] = p;
    } else if (w !== p) {
      return null;
    }
  }
  return params;
}
