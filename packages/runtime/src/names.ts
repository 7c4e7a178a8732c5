/** Names that appear in URLs: tenant and server ids, key ids, session ids. */

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
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The Durable Object name of one session: bound to its tenant and server. */
export function sessionObjectName(tenant: string, server: string, sessionId: string): string {
  return `session:${tenant}/${server}/${sessionId}`;
}
