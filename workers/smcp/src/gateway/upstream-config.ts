/**
 * The configuration of an upstream server (a remote Streamable HTTP MCP server SMCP
 * fronts, SPEC section 9): its URL and the headers SMCP sends it.
 *
 * Pure functions, used by the admin API (to refuse a bad configuration with the
 * reason) and by the relay (to check the URL again at fetch time and to fill in
 * secret references). The URL's host follows the sandbox egress rules
 * (sandbox/egress.ts): no IP literal in any form, no loopback unless
 * `SMCP_ALLOW_LOOPBACK_EGRESS`. Headers cannot set what belongs to SMCP's own leg of
 * the protocol (`Mcp-Session-Id`, `MCP-Protocol-Version`), `Host`, or hop-by-hop
 * headers. A value may name a secret of the server as `${secret:NAME}`; the stored
 * configuration keeps the reference, and only the relay, in memory, holds the value.
 */
import type { NamedSecret } from "@smcp/runtime";
import { hostKind, type EgressPolicy } from "../sandbox/egress";
import { SECRET_NAME } from "../tenant/secrets";

/** As stored in the tenant's KV (`upstream:{server}`) and handed to sessions. */
export interface UpstreamConfig {
  url: string;
  /** Header name (lower case) to value template (may hold `${secret:NAME}`). */
  headers: Record<string, string>;
  updatedAt: number;
}

export const MAX_UPSTREAM_HEADERS = 20;
export const MAX_UPSTREAM_URL = 2_048;
export const MAX_HEADER_VALUE = 8_192;

const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
  "content-length",
  "content-type",
  "accept",
  // hop-by-hop (RFC 9110 section 7.6.1) and their relatives
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,128}$/;
const SECRET_REF = /\$\{secret:([^}]*)\}/g;

export type UpstreamCheck = { ok: true; value: Omit<UpstreamConfig, "updatedAt"> } | { ok: false; reason: string };

/** Whether SMCP may connect to `url` as an upstream, and if not, why (a sentence). */
export function upstreamUrlProblem(url: URL, policy: EgressPolicy): string | null {
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${url.protocol.replace(/:$/, "")} is not allowed: an upstream URL is http or https`;
  if (url.username || url.password) return "the URL carries credentials; put them in a header from a secret instead";
  if (url.hash) return "the URL has a fragment";
  const kind = hostKind(url.hostname);
  const loopback = kind === "localhost" || kind === "loopback-ipv4" || kind === "loopback-ipv6";
  if (loopback) return policy.allowLoopback ? null : `${url.hostname} is this machine (loopback); an upstream may be loopback only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS`;
  if (kind !== "name") return `${url.hostname} is an IP address; an upstream is named by its host name`;
  if (!url.hostname.includes(".")) return `${url.hostname} is not a public host name`;
  return null;
}

/** Checks and normalises a `PUT .../upstream` body (already shaped `{url, headers?}`). */
export function checkUpstream(body: { url: string; headers?: Record<string, string> }, policy: EgressPolicy): UpstreamCheck {
  if (body.url.length > MAX_UPSTREAM_URL) return { ok: false, reason: `url: at most ${MAX_UPSTREAM_URL} characters` };
  let url: URL;
  try {
    url = new URL(body.url);
  } catch {
    return { ok: false, reason: `url: ${JSON.stringify(body.url.slice(0, 200))} is not a URL` };
  }
  const problem = upstreamUrlProblem(url, policy);
  if (problem) return { ok: false, reason: `url: ${problem}` };
  const headers: Record<string, string> = {};
  const entries = Object.entries(body.headers ?? {});
  if (entries.length > MAX_UPSTREAM_HEADERS) return { ok: false, reason: `headers: at most ${MAX_UPSTREAM_HEADERS}` };
  for (const [raw, value] of entries) {
    const name = raw.toLowerCase();
    if (!HEADER_NAME.test(name)) return { ok: false, reason: `headers: ${JSON.stringify(raw.slice(0, 130))} is not a header name` };
    if (FORBIDDEN_HEADERS.has(name)) {
      return { ok: false, reason: `headers: ${raw} cannot be configured: SMCP sets it (session, protocol version, framing) or it is hop-by-hop` };
    }
    if (name in headers) return { ok: false, reason: `headers: ${raw} is given twice` };
    if (value.length > MAX_HEADER_VALUE) return { ok: false, reason: `headers: the value of ${raw} is longer than ${MAX_HEADER_VALUE} characters` };
    if (/[\r\n\0]/.test(value)) return { ok: false, reason: `headers: the value of ${raw} has a line break or NUL` };
    for (const ref of value.matchAll(SECRET_REF)) {
      if (!SECRET_NAME.test(ref[1]!)) return { ok: false, reason: `headers: ${raw} names the secret ${JSON.stringify(ref[1]!.slice(0, 80))}, which is not a secret name ([A-Z_][A-Z0-9_]{0,63})` };
    }
    headers[name] = value;
  }
  return { ok: true, value: { url: url.href, headers } };
}

/** The secret names a configuration's headers refer to. */
export function secretRefs(headers: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(headers)) for (const ref of value.matchAll(SECRET_REF)) names.add(ref[1]!);
  return [...names];
}

export type ResolvedHeaders = { ok: true; headers: Record<string, string> } | { ok: false; missing: string[] };

/** The headers with every `${secret:NAME}` filled in, or the names no secret of the server has. */
export function resolveHeaders(headers: Record<string, string>, secrets: readonly NamedSecret[]): ResolvedHeaders {
  const values = new Map(secrets.map((s) => [s.name, s.value]));
  const missing = secretRefs(headers).filter((n) => !values.has(n));
  if (missing.length > 0) return { ok: false, missing };
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) out[name] = template.replace(SECRET_REF, (_m, n: string) => values.get(n)!);
  return { ok: true, headers: out };
}
