/**
 * The egress allow-list of a deployed server: which hosts its code may fetch.
 *
 * Pure functions, used twice: by the admin API to refuse malformed entries, and by
 * the platform-side outbound (`SandboxEgress`) that sees every request the sandbox
 * makes. An entry is a host name (`api.example.com`), a wildcard for its subdomains
 * (`*.example.com`, which does not match `example.com` itself), or either with a
 * port (`api.example.com:8443`). Without a port only the scheme's default port
 * matches. Only http and https leave the sandbox; nothing else is ever allowed.
 */

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOST = `(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*`;
const ENTRY = new RegExp(`^(${HOST})(?::(\\d{1,5}))?$`);

export type EgressEntryCheck = { ok: true; entry: string } | { ok: false; reason: string };

/** Normalises one allow-list entry (lower case), or says what is wrong with it. */
export function checkEgressEntry(raw: string): EgressEntryCheck {
  const entry = raw.trim().toLowerCase();
  const match = ENTRY.exec(entry);
  if (!match) return { ok: false, reason: `"${raw}" is not a host name, *.domain or host:port` };
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { ok: false, reason: `"${raw}" has an invalid port` };
  return { ok: true, entry };
}

/** Whether `url` may be fetched under `allow` (entries already normalised). */
export function isEgressAllowed(url: URL, allow: readonly string[]): boolean {
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  const host = url.hostname.toLowerCase();
  const port = url.port; // "" for the scheme's default port
  return allow.some((entry) => {
    const colon = entry.lastIndexOf(":");
    const pattern = colon >= 0 ? entry.slice(0, colon) : entry;
    const entryPort = colon >= 0 ? entry.slice(colon + 1) : "";
    if (entryPort !== port) return false;
    return pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
  });
}

