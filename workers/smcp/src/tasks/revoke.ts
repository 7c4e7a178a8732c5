/**
 * A revoked key or grant takes its unfinished tasks with it: they become `cancelled`
 * (their owner could no longer read them anyway). Finished tasks stay until they expire.
 * Repeating a revocation repeats this, which finds nothing more to cancel.
 */
import { tenantStub, type Env } from "../env";
import { taskStubOf } from "./task-do";

export async function cancelTasksOf(env: Env, tenant: string, owner: { keyId: string } | { grantId: string }): Promise<number> {
  const config = await tenantStub(env, tenant).info();
  if (!config) return 0;
  return taskStubOf(env, tenant, config.incarnation).cancelOwnedBy(owner);
}
