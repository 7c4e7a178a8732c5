/**
 * Who "admin" is in the audit rows an admin action writes: the platform operator
 * (`admin`) or a tenant admin key (`admin-key:{id}`).
 *
 * An admin action of a tenant admin key reaches the tenant object through one RPC
 * method, `TenantDO.adminKeyCall`, which runs the named method inside this context;
 * the audit log resolves the actor `admin` from it when it builds a row. So every
 * place that audits an admin action (keys, servers, deployments, secrets, audit
 * retention, whatever is added later) names the key without passing an actor through
 * its signature, and a call made outside the context stays `admin`.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The actor every admin action is audited as, unless a tenant admin key acts. */
export const PLATFORM_ADMIN_ACTOR = "admin";

const acting = new AsyncLocalStorage<string>();

export const adminKeyActor = (keyId: string) => `admin-key:${keyId}`;

/** Runs `work` with admin actions audited as tenant admin key `keyId`. */
export function actAsAdminKey<T>(keyId: string, work: () => T): T {
  return acting.run(adminKeyActor(keyId), work);
}

/** `actor`, with the platform admin resolved to the tenant admin key acting now (if any). */
export function resolveAdminActor(actor: string): string {
  return actor === PLATFORM_ADMIN_ACTOR ? (acting.getStore() ?? actor) : actor;
}
