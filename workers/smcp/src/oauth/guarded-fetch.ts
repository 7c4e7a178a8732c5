/**
 * The platform's own guarded outbound: the fetches SMCP makes on a stranger's behalf
 * (a Client ID Metadata Document at a URL the client chose, client-metadata.ts) or to a
 * host a tenant admin named (the single sign-on provider's discovery document, keys and
 * token endpoint, sso/provider.ts and sso/token-exchange.ts).
 *
 * The URL is hostile, so the fetch is shaped to reach only public web servers and to
 * cost a bounded amount:
 * - `https` only, on every hop;
 * - the host rules of tenant egress (sandbox/egress.ts): no IP literal in any form the
 *   URL parser turns into one, no `localhost` / `*.localhost` / loopback address unless
 *   `SMCP_ALLOW_LOOPBACK_EGRESS`, and no private name: a host must be a domain under a
 *   suffix of the Public Suffix List (`tldts`), so `printer.local`, `db.internal` and
 *   single labels are refused;
 * - redirects are followed by hand, at most `MAX_REDIRECTS`, and each target passes the
 *   same rules before it is fetched (fetch's own following would skip the check);
 * - one deadline (`timeoutMs`, an AbortController) covers every hop and the body;
 * - the body is read through the bounded reader and dropped past `maxBytes`; a
 *   `Content-Length` above it is refused before reading;
 * - no cookies, `Accept: application/json`; a POST (the token endpoint) carries the
 *   caller's form and headers and follows no redirect at all, so its credentials are
 *   never sent on to another URL.
 * Failures come back as tagged values with a sentence for the person or client that
 * chose the URL; nothing here throws for what the remote end does.
 */
import { readBoundedBytes } from "@smcp/runtime";
import { parse as parseHost } from "tldts";
import { hostKind, type EgressPolicy } from "../sandbox/egress";

export const MAX_REDIRECTS = 3;

export interface GuardedFetchOptions extends EgressPolicy {
  maxBytes: number;
  timeoutMs: number;
  /** A form POST instead of a GET: sent once, to `start` only (a redirect is a failure). */
  post?: { form: URLSearchParams; headers?: Record<string, string> };
}

export type TargetVerdict = { ok: true } | { ok: false; reason: string };

/** Whether the platform may fetch `url` on a stranger's behalf, and if not, why (a sentence). */
export function outboundTarget(url: URL, policy: EgressPolicy): TargetVerdict {
  if (url.protocol !== "https:") return { ok: false, reason: `${url.protocol.replace(/:$/, "")} is not allowed: only https URLs are fetched` };
  if (url.username || url.password) return { ok: false, reason: "the URL carries credentials" };
  const kind = hostKind(url.hostname);
  const loopback = kind === "localhost" || kind === "loopback-ipv4" || kind === "loopback-ipv6";
  if (loopback) {
    return policy.allowLoopback ? { ok: true } : { ok: false, reason: `${url.hostname} is this machine (loopback); it is fetched only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS` };
  }
  if (kind !== "name") return { ok: false, reason: `${url.hostname} is an IP address; only host names are fetched` };
  const host = parseHost(url.hostname.replace(/\.$/, ""), { allowPrivateDomains: true });
  if (host.domain === null || (!host.isIcann && !host.isPrivate)) {
    return { ok: false, reason: `${url.hostname} is not a public domain name (no known public suffix); only public hosts are fetched` };
  }
  return { ok: true };
}

export type GuardedFetchResult =
  | { ok: true; url: URL; status: number; headers: Headers; body: Uint8Array }
  | { ok: false; reason: "refused" | "unreachable" | "timeout" | "too-large" | "redirects"; detail: string };

/** GETs (or POSTs) `start` under the rules above. Any status is returned; the caller decides what it accepts. */
export async function guardedFetch(start: URL, options: GuardedFetchOptions): Promise<GuardedFetchResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  try {
    let url = start;
    for (let hop = 0; ; hop++) {
      const verdict = outboundTarget(url, options);
      if (!verdict.ok) return { ok: false, reason: "refused", detail: hop === 0 ? verdict.reason : `a redirect went to ${url.href}: ${verdict.reason}` };
      let res: Response;
      try {
        res = await fetch(url.href, {
          method: options.post ? "POST" : "GET",
          headers: options.post
            ? { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded", ...options.post.headers }
            : { Accept: "application/json" },
          ...(options.post ? { body: options.post.form.toString() } : {}),
          redirect: "manual",
          signal: abort.signal,
        });
      } catch {
        return abort.signal.aborted
          ? { ok: false, reason: "timeout", detail: `no answer within ${options.timeoutMs / 1000} s` }
          : { ok: false, reason: "unreachable", detail: `${url.host} could not be reached` };
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get("location");
        if (location === null) return { ok: false, reason: "unreachable", detail: `${url.host} answered ${res.status} without a Location` };
        if (options.post) return { ok: false, reason: "redirects", detail: `${url.host} redirected a POST (${res.status}); it is not followed` };
        if (hop >= MAX_REDIRECTS) return { ok: false, reason: "redirects", detail: `more than ${MAX_REDIRECTS} redirects` };
        try {
          url = new URL(location, url);
        } catch {
          return { ok: false, reason: "unreachable", detail: `${url.host} redirected to an invalid URL` };
        }
        continue;
      }
      const declared = Number(res.headers.get("content-length") ?? "0");
      if (declared > options.maxBytes) {
        await res.body?.cancel().catch(() => {});
        return { ok: false, reason: "too-large", detail: `the answer is larger than ${options.maxBytes} bytes` };
      }
      let body: Uint8Array | null;
      try {
        body = await readBoundedBytes(res.body, options.maxBytes);
      } catch {
        return abort.signal.aborted
          ? { ok: false, reason: "timeout", detail: `no complete answer within ${options.timeoutMs / 1000} s` }
          : { ok: false, reason: "unreachable", detail: `${url.host} broke off its answer` };
      }
      if (body === null) return { ok: false, reason: "too-large", detail: `the answer is larger than ${options.maxBytes} bytes` };
      return { ok: true, url, status: res.status, headers: res.headers, body };
    }
  } finally {
    clearTimeout(timer);
  }
}
