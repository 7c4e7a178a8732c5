/**
 * Which hosts are this machine: one list for every rule that treats loopback apart.
 *
 * Two questions, kept in one place so they cannot drift apart:
 * - `isLoopbackHost`: is a URL's host one of the loopback names a user's own app
 *   uses (`localhost`, `127.0.0.1`, `[::1]`, as URL parsing spells them)? The Origin
 *   check (a page served from localhost is the user's own) and OAuth's loopback
 *   redirect rules (RFC 8252 §7.3) accept exactly these.
 * - `reachesLoopback`: does a host reach this machine at all: those names, every
 *   `*.localhost` (RFC 6761 §6.3) and all of 127.0.0.0/8? Egress refuses every one of
 *   them unless loopback egress is on.
 * Both take `URL.hostname`, which URL parsing has already lower-cased and turned
 * into dotted-decimal IPv4 or bracketed IPv6.
 */

/** The loopback hosts a user's own app names: an Origin or an OAuth redirect on one of them is local. */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** Whether `hostname` is one of `LOOPBACK_HOSTS`. */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.includes(hostname);

/** Whether `hostname` reaches this machine: `localhost` or a subdomain of it, an address in 127.0.0.0/8, or `[::1]`. */
export function reachesLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return host === "[::1]";
  if (IPV4.test(host)) return host.startsWith("127.");
  return host === "localhost" || host.endsWith(".localhost");
}

/** A host in the dotted-decimal form URL parsing gives every IPv4 address. */
export const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
