/** Names that appear in URLs: tenant and server ids, key ids, session ids; and the names derived from them. */
import { base64url } from "./encoding";

const SEGMENT = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `{tenant}` and `{server}` in `/mcp/{tenant}/{server}` (SPEC section 2). */
export function isValidSegment(name: unknown): name is string {
  return typeof name === "string" && SEGMENT.test(name);
}

/** Session ids are 32 base64url characters: 192 random bits. */
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

export function isWellFormedSessionId(id: string | null): id is string {
  return id !== null && SESSION_ID.test(id);
}

/** Mints a session id with 192 bits from the platform's CSPRNG. */
export function newSessionId(): string {
  return randomToken(24);
}

/** `n` random bytes as unpadded base64url. */
export function randomToken(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/**
 * A tenant's incarnation: 96 random bits minted when the tenant is created. A tenant
 * deleted and created again under the same id gets a new one, and every name derived
 * from the tenant includes it, so the new tenant never reaches the old one's session
 * objects, sandbox isolates or cached decisions.
 */
export function newIncarnation(): string {
  return randomToken(12);
}

/**
 * The incarnation of a tenant created before incarnations existed. Its derived names
 * are the names those tenants have always used, so their live sessions keep their
 * objects; every tenant created since has a random incarnation, which never equals it.
 */
export const LEGACY_INCARNATION = "";

/** The Durable Object name of one session: bound to its tenant's incarnation and its server. */
export function sessionObjectName(tenant: string, incarnation: string, server: string, sessionId: string): string {
  return `session:${tenantIncarnationName(tenant, incarnation)}/${server}/${sessionId}`;
}

/**
 * How a name derived from a tenant spells it: its id and, for tenants that have one,
 * `~` and its incarnation (`~` is in neither a tenant id nor base64url, so no two
 * tenant/incarnation pairs spell the same).
 */
export function tenantIncarnationName(tenant: string, incarnation: string): string {
  return incarnation === LEGACY_INCARNATION ? tenant : `${tenant}~${incarnation}`;
}

/** `text` cut to `max` characters for a message or a log line, with "…" where it was cut (a stranger chose it). */
export const shownText = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * The Durable Object name of one server's change-event bus (the stateless lane's
 * `subscriptions/listen`): bound to the tenant's incarnation, so a re-created tenant
 * never meets the old one's events.
 */
export function listenBusObjectName(tenant: string, incarnation: string, server: string): string {
  return `listen:${tenantIncarnationName(tenant, incarnation)}/${server}`;
}
