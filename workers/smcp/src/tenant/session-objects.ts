/**
 * What the tenant asks of its sessions' Durable Objects: end them now (a credential
 * revoked, the tenant deleted), and confirm that an index row past its expiry is
 * really gone before the row is swept.
 *
 * The index (tenant/session-index.ts) is the tenant's view; the session object is
 * the truth. So a row goes only when its object says it holds no session, and an
 * object that fails or does not answer keeps its row for the next attempt: a repeat
 * re-drives whatever is left. Each object gets its own bounded attempt, so one that
 * hangs neither hides nor holds up the others.
 */
import { platformConfig, sessionObjectName } from "@smcp/runtime";
import type { Env } from "../env";
import type { ToolPolicy } from "../policy/tool-policy";
import type { SessionIndex } from "./session-index";
import type { SessionEndCause, TenantConfig } from "./types";

/** Index rows this long past their expiry are confirmed with their session object and swept if it is gone. */
const SWEEP_GRACE_MS = 60_000;
const SWEEP_BATCH = 8;

/** What ending a set of sessions did; ids of the sessions that could not be ended are listed. */
export interface SessionsEnded {
  sessionsEnded: number;
  sessionsFailed: string[];
}

/** What the session objects need from the tenant object that hosts them. */
export interface SessionObjectsHost {
  env: Env;
  /** The tenant whose sessions these are: its id and incarnation name their objects. */
  config: TenantConfig;
  index: SessionIndex;
  audit(actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void>;
}

export class SessionObjects {
  readonly #host: SessionObjectsHost;

  constructor(host: SessionObjectsHost) {
    this.#host = host;
  }

  #object(s: { id: string; server: string }) {
    const { env, config } = this.#host;
    return env.SESSION.get(env.SESSION.idFromName(sessionObjectName(config.id, config.incarnation, s.server, s.id)));
  }

  /**
   * Ends sessions now, streams included (credential revoked, tenant deleted). Each
   * session gets its own bounded attempt, so one that fails or does not answer
   * neither hides nor holds up the others; it stays in the index for a repeat. A
   * session object that holds no session any more has ended: its index row goes.
   */
  async end(sessions: { id: string; server: string }[], cause: SessionEndCause): Promise<SessionsEnded> {
    const timeoutMs = platformConfig(this.#host.env).SMCP_SESSION_END_TIMEOUT_MS;
    const outcomes = await Promise.allSettled(sessions.map((s) => withDeadline(this.#object(s).terminate(cause), timeoutMs)));
    const failed: string[] = [];
    outcomes.forEach((outcome, i) => {
      const session = sessions[i]!;
      if (outcome.status === "rejected") failed.push(session.id);
      else if (outcome.value === false) this.#host.index.remove(session.id);
    });
    return { sessionsEnded: sessions.length - failed.length, sessionsFailed: failed };
  }

  /**
   * Tells live sessions their server's tool policy changed, so each announces a list
   * change now. Best effort: a session that misses it learns on its next message.
   */
  async policyChanged(sessions: { id: string; server: string }[], policy: ToolPolicy | null): Promise<void> {
    const timeoutMs = platformConfig(this.#host.env).SMCP_SESSION_END_TIMEOUT_MS;
    await Promise.allSettled(sessions.map((s) => withDeadline(this.#object(s).policyChanged(policy), timeoutMs)));
  }

  /**
   * Drops index rows past their expiry whose session object says it holds no session
   * (it ended without reaching the tenant). A session that is alive extends its row; one
   * that cannot be reached keeps it for the next sweep. Bounded per call.
   */
  async sweep(): Promise<void> {
    const { index } = this.#host;
    const candidates = index.expired(Date.now() - SWEEP_GRACE_MS, SWEEP_BATCH);
    await Promise.all(
      candidates.map(async (s) => {
        const probe = await this.#object(s)
          .probe()
          .catch(() => null);
        if (probe === null) return;
        if (probe.alive) return index.extend(s.id, probe.expiresAt);
        if (index.remove(s.id)) await this.#host.audit("platform", "session.ended", s.id, { reason: "swept" });
      }),
    );
  }
}

/** `promise`, or a rejection once `ms` have passed without an answer. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
