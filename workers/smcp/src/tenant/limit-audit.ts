/**
 * `limit.hit` audit entries, throttled: a client pressing against a limit (rate,
 * sessions, tool-data quota) writes at most one entry per kind of limit per
 * `LIMIT_AUDIT_INTERVAL_MS`, so a flood cannot flood the audit log. The last time
 * per kind is kept in memory: losing it on eviction costs at most one more entry.
 */

/** At most one `limit.hit` audit entry per kind in this many ms. */
const LIMIT_AUDIT_INTERVAL_MS = 10_000;

type Append = (actor: string, action: string, target: string, detail: Record<string, unknown>) => Promise<void>;

export class LimitAudit {
  readonly #append: Append;
  readonly #last = new Map<string, number>();

  constructor(append: Append) {
    this.#append = append;
  }

  /** Records that limit `kind` was hit, unless it was recorded less than an interval ago. */
  async hit(kind: string, detail: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    if (now - (this.#last.get(kind) ?? 0) < LIMIT_AUDIT_INTERVAL_MS) return;
    this.#last.set(kind, now);
    await this.#append("platform", "limit.hit", kind, detail);
  }
}
