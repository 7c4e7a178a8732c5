/**
 * The egress allow-list of a deployed server: which hosts its code may fetch.
 *
 * Pure functions, used twice: by the admin API to refuse bad entries with the
 * reason, and by the platform-side outbound (`SandboxEgress`) that sees every
 * request the sandbox makes. An entry is a host name (`api.example.com`), a wildcard
 * for its subdomains (`*.example.com`, which does not match `example.com` itself), or
 * either with a port (`api.example.com:8443`). Without a port only the scheme's
 * default port matches. Only http and https leave the sandbox.
 *
 * Never allowed, on the list or at fetch time, because each reaches something other
 * than the tenant's chosen upstream:
 * - IP literals, v4 and v6, in every form URL parsing turns into one (`2130706433`,
 *   `0x7f.1`, `0177.0.0.1` all mean 127.0.0.1): an allow-list names hosts;
 * - `localhost` and `*.localhost`, and loopback addresses, unless the platform runs
 *   with `SMCP_ALLOW_LOOPBACK_EGRESS` (local development and the end-to-end tests,
 *   whose upstreams listen on 127.0.0.1);
 * - a wildcard over a public suffix (`*.com`, `*.co.uk`, `*.github.io`), which would
 *   let the code reach anyone's domain. Public suffixes come from the Public Suffix
 *   List as `tldts` ships it, private domains included; a name it does not know is
 *   treated as a suffix of its own (so `*.internal` is refused too).
 * The outbound checks the URL's host as the runtime parsed it, so an IP literal
 * cannot slip past as a host name. (A host name that resolves to a private address
 * is the network's business: Workers' fetch does not reach private addresses.)
 */
import { IPV4, reachesLoopback } from "@smcp/runtime";
import { getPublicSuffix } from "tldts";

export interface EgressPolicy {
  /** `SMCP_ALLOW_LOOPBACK_EGRESS`: localhost and loopback addresses may be listed and fetched. */
  allowLoopback: boolean;
}

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const NAME_ENTRY = new RegExp(`^(\\*\\.)?(${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?$`);
const IPV6_ENTRY = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/;

/** What a host, as URL parsing normalises it, is. */
export type HostKind = "name" | "localhost" | "ipv4" | "ipv6" | "loopback-ipv4" | "loopback-ipv6";

/** Classifies a `URL.hostname` (already normalised: IPv4 dotted decimal, IPv6 in brackets). */
export function hostKind(hostname: string): HostKind {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const loopback = reachesLoopback(host);
  if (host.startsWith("[")) return loopback ? "loopback-ipv6" : "ipv6";
  if (IPV4.test(host)) return loopback ? "loopback-ipv4" : "ipv4";
  return loopback ? "localhost" : "name";
}

/**
 * Names that exist so that no server answers for them (RFC 2606, RFC 6761): the `.test`,
 * `.example` and `.invalid` top-level domains, and example.com, example.net and
 * example.org with their subdomains, which are for documentation. Every outbound
 * (sandbox egress, upstreams, metadata documents) fails such a host at once with this
 * sentence instead of fetching it: the fetch could only fail, after a DNS lookup, and
 * workerd reports each failed fetch as an uncaught exception in its log even when the
 * caller catches it. `localhost` is not here: it is loopback, allowed by its own setting.
 */
export function reservedHostProblem(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const labels = host.split(".");
  const tld = labels.at(-1)!;
  const reserved = ["test", "example", "invalid"].includes(tld) || (labels.length >= 2 && labels.at(-2) === "example" && ["com", "net", "org"].includes(tld));
  return reserved ? `${host} is a reserved name (RFC 2606) that no server answers for` : null;
}

const isPublicSuffix = (domain: string) => getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
const isLoopback = (kind: HostKind) => kind === "localhost" || kind === "loopback-ipv4" || kind === "loopback-ipv6";
const isIp = (kind: HostKind) => kind !== "name" && kind !== "localhost";

/** `host` as the URL parser reads it, or null when it cannot be a URL's host at all. */
function normalisedHost(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
}

export type EgressEntryCheck = { ok: true; entry: string } | { ok: false; reason: string };

const validPort = (port: string | undefined) => port === undefined || (Number(port) >= 1 && Number(port) <= 65535);

/** Normalises one allow-list entry (lower case), or says what is wrong with it. */
export function checkEgressEntry(raw: string, policy: EgressPolicy): EgressEntryCheck {
  const entry = raw.trim().toLowerCase();
  const loopbackRefused = `"${raw}" is a loopback host; loopback egress is allowed only when the platform runs with SMCP_ALLOW_LOOPBACK_EGRESS`;

  const v6 = IPV6_ENTRY.exec(entry);
  if (v6 || (entry.match(/:/g)?.length ?? 0) > 1) {
    const kind = v6 ? hostKind(normalisedHost(`[${v6[1]}]`) ?? "[invalid]") : "ipv6";
    if (kind === "loopback-ipv6") {
      if (!policy.allowLoopback) return { ok: false, reason: loopbackRefused };
      return validPort(v6![2]) ? { ok: true, entry: `[::1]${v6![2] ? `:${v6![2]}` : ""}` } : { ok: false, reason: `"${raw}" has an invalid port` };
    }
    return { ok: false, reason: `"${raw}" is an IP address (IPv6); the allow-list takes host names only` };
  }

  const match = NAME_ENTRY.exec(entry);
  if (!match) return { ok: false, reason: `"${raw}" is not a host name, *.domain or host:port` };
  const [, wildcard, host, port] = match as unknown as [string, string | undefined, string, string | undefined];
  if (!validPort(port)) return { ok: false, reason: `"${raw}" has an invalid port` };

  const parsed = normalisedHost(host);
  if (parsed === null) return { ok: false, reason: `"${raw}" ends in a number but is not an IP address; it cannot be a host name` };
  const kind = hostKind(parsed);
  if (isIp(kind) && !(isLoopback(kind) && policy.allowLoopback && !wildcard)) {
    const as = parsed === host ? "" : ` (it means ${parsed})`;
    return { ok: false, reason: `"${raw}" is an IP address${as}; the allow-list takes host names only` };
  }
  if (kind === "localhost" && !policy.allowLoopback) return { ok: false, reason: loopbackRefused };
  // A loopback IP is listed in its canonical form, which is what the outbound compares.
  if (isIp(kind)) return { ok: true, entry: `${parsed}${port ? `:${port}` : ""}` };

  if (wildcard && kind === "name" && isPublicSuffix(host)) {
    return { ok: false, reason: `"${raw}" would allow every domain under the public suffix "${host}"; list the domains themselves` };
  }
  return { ok: true, entry };
}

export type EgressVerdict = { ok: true } | { ok: false; reason: "scheme" | "ip-literal" | "loopback" | "not-listed" };

/** Whether `url` may be fetched under `allow` (entries already normalised), and if not, why. */
export function egressVerdict(url: URL, allow: readonly string[], policy: EgressPolicy): EgressVerdict {
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "scheme" };
  const host = url.hostname.toLowerCase();
  const kind = hostKind(host);
  if (isLoopback(kind) && !policy.allowLoopback) return { ok: false, reason: "loopback" };
  if (isIp(kind) && !isLoopback(kind)) return { ok: false, reason: "ip-literal" };
  const port = url.port; // "" for the scheme's default port
  const listed = allow.some((entry) => {
    const colon = entry.lastIndexOf(":");
    const hasPort = colon >= 0 && !entry.endsWith("]");
    const pattern = hasPort ? entry.slice(0, colon) : entry;
    const entryPort = hasPort ? entry.slice(colon + 1) : "";
    if (entryPort !== port) return false;
    if (!pattern.startsWith("*.")) return host === pattern;
    // A public-suffix wildcard stored before such entries were refused matches nothing.
    return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 && !isPublicSuffix(pattern.slice(2));
  });
  return listed ? { ok: true } : { ok: false, reason: "not-listed" };
}

export const isEgressAllowed = (url: URL, allow: readonly string[], policy: EgressPolicy): boolean => egressVerdict(url, allow, policy).ok;
