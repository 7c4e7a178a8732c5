/**
 * Failed authentications, aggregated: what a stranger can trigger writes a bounded
 * number of audit rows, whatever servers, bearers or codes it sends.
 *
 * Every failure is one increment of an in-memory counter per fixed reason. The first
 * failure after a quiet spell opens a window and arms the object's alarm for the end
 * of it; when the window closes, each reason that failed in it becomes ONE `auth.failed`
 * row `{reason, count, since, until}` (target: the reason). So a tenant gets at most one
 * row per reason per `AUTH_FAILURE_INTERVAL_MS`, and nothing in a row comes from the
 * request: no server name (the URL's server is the stranger's choice), no bearer text.
 *
 * Counts are not lost silently. The window is flushed by the alarm, or by the next
 * failure when the alarm is late. Opening a window also writes a marker to the
 * object's KV (one write per window, not per failure): if the object is evicted before
 * the alarm, the alarm finds the marker without counts and writes one row with reason
 * `unrecorded`, so an admin sees that failures happened while their number was lost.
 * Any alarm run flushes the open window: the alarm is only ever armed for the window's
 * end (or earlier, by another concern of the object), so the bound stays one row per
 * reason per alarm run or interval.
 */

/** Length of one aggregation window. */
export const AUTH_FAILURE_INTERVAL_MS = 10_000;

/** KV key of the open window's start; present only while a window is open. */
const WINDOW_KEY = "auth-failures-window";

/** Why an authentication failed. Fixed strings only: these become audit rows. */
const REASONS = [
  /** An endpoint that needs a key got none. */
  "no-key",
  /** A bearer that is neither a well-formed tenant key nor an access token of this tenant. */
  "malformed-bearer",
  /** A well-formed tenant key that is unknown or revoked. */
  "invalid-key",
  /** An access token that is unknown or expired. */
  "invalid-token",
  /** An access token of this tenant presented at another MCP URL than its grant's. */
  "token-audience",
  /** An access token whose approving key has been revoked. */
  "approver-revoked",
  /** `/token` with an authorization code that is unknown or expired. */
  "unknown-code",
  /** `/token` with a refresh token that is unknown or expired. */
  "unknown-refresh-token",
  /** A well-formed tenant admin key (`smcp_ak_`) of this tenant that is unknown or revoked. */
  "invalid-admin-key",
  /** A single sign-on whose ID token was refused (signature, issuer, audience, expiry, nonce). */
  "sso-id-token",
  /** A signed-in person the tenant's allow rule does not admit. */
  "sso-outsider",
  /** A valid ID token whose nonce was already used by an earlier sign-in. */
  "sso-nonce-replayed",
] as const;

export type AuthFailureReason = (typeof REASONS)[number];

export const isAuthFailureReason = (value: unknown): value is AuthFailureReason => (REASONS as readonly unknown[]).includes(value);

export interface FailureHost {
  storage: DurableObjectStorage;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
}

export class AuthFailureTally {
  readonly #host: FailureHost;
  /** Bounded by the fixed set of reasons. */
  #counts = new Map<AuthFailureReason, number>();
  #since: number | null = null;

  constructor(host: FailureHost) {
    this.#host = host;
  }

  async record(reason: AuthFailureReason, count = 1, now = Date.now()): Promise<void> {
    // The alarm is late (or was lost): close the window now rather than let it grow.
    if (this.#since !== null && now - this.#since >= AUTH_FAILURE_INTERVAL_MS) await this.flush(now);
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + count);
    if (this.#since !== null) return;
    this.#since = now;
    this.#host.storage.kv.put(WINDOW_KEY, now);
    const due = now + AUTH_FAILURE_INTERVAL_MS;
    const armed = await this.#host.storage.getAlarm();
    if (armed === null || armed > due) await this.#host.storage.setAlarm(due);
  }

  /** Writes the open window's rows (one per reason) and closes it. */
  async flush(now = Date.now()): Promise<void> {
    const marker = this.#host.storage.kv.get<number>(WINDOW_KEY);
    const since = this.#since ?? marker ?? null;
    if (since === null) return;
    const counts = [...this.#counts];
    this.#counts = new Map();
    this.#since = null;
    this.#host.storage.kv.delete(WINDOW_KEY);
    if (counts.length === 0) {
      await this.#host.audit("anonymous", "auth.failed", "unrecorded", { reason: "unrecorded", count: null, since, until: now });
      return;
    }
    for (const [reason, count] of counts) {
      await this.#host.audit("anonymous", "auth.failed", reason, { reason, count, since, until: now });
    }
  }
}
