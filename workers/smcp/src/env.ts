/**
 * The bindings and variables of the SMCP Worker (see `wrangler.jsonc`). The variables
 * are not declared here: they are derived from the config schema
 * (packages/runtime/src/config.ts), so a variable the schema validates is always in
 * `Env` and one `Env` names is always validated.
 */
import type { PlatformVariables } from "@smcp/runtime";
import type { SessionDO } from "./session-do";
import type { TenantDO } from "./tenant-do";
import type { DirectoryDO } from "./directory-do";
import type { OAuthLimiterDO } from "./oauth/limiter-do";
import type { ListenBusDO } from "./mcp/listen-bus-do";
import { listenBusObjectName } from "@smcp/runtime";
import type { TaskDO } from "./tasks/task-do";
import type { UpstreamPrincipalDO } from "./gateway/principal-upstream-do";
import type { ReportShardDO } from "./tenant/report-shard-do";
import { asAdminCaller } from "./admin/acting-caller";

export interface Env extends PlatformVariables {
  SESSION: DurableObjectNamespace<SessionDO>;
  TENANT: DurableObjectNamespace<TenantDO>;
  DIRECTORY: DurableObjectNamespace<DirectoryDO>;
  /** OAuth client registrations (oauth/clients.ts); grants and tokens live in each TenantDO. */
  OAUTH_KV: KVNamespace;
  /** OAuth abuse limits: one object per client-address digest and per tenant (oauth/limiter-do.ts). */
  OAUTH_LIMITER: DurableObjectNamespace<OAuthLimiterDO>;
  /** The stateless lane's change-event bus: one object per tenant incarnation and server (mcp/listen-bus-do.ts). */
  LISTEN_BUS: DurableObjectNamespace<ListenBusDO>;
  /** Tasks of the 2026-07-28 Tasks extension: one object per tenant incarnation (tasks/task-do.ts). */
  TASKS: DurableObjectNamespace<TaskDO>;
  /** The stateless lane's upstream sessions: one object per principal of an upstream server, one more per server for its list changes (gateway/principal-upstream-do.ts). */
  UPSTREAMS: DurableObjectNamespace<UpstreamPrincipalDO>;
  /** Sessions' counter reports, batched to the tenant: `SMCP_REPORT_SHARDS` objects per tenant (tenant/report-shard-do.ts). */
  REPORT_SHARDS: DurableObjectNamespace<ReportShardDO>;
  /** Loads deployed (tenant-written) servers into isolates of their own (sandbox/client.ts). */
  LOADER: WorkerLoader;
}

/** Fails to compile, naming the variable, when `Env` declares an `SMCP_` variable the config schema does not validate. */
type NoneOf<T extends never> = T;
export type UnvalidatedVariables = NoneOf<Exclude<Extract<keyof Env, `SMCP_${string}`>, keyof PlatformVariables>>;

/** In an admin call of a tenant admin key, the stub acts as that key (admin/acting-caller.ts). */
export const tenantStub = (env: Env, tenant: string) => asAdminCaller(env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`)), tenant);

export const directoryStub = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));

/** The change-event bus of one tenant's server (stateless lane), shared by every isolate. */
export const listenBusStub = (env: Pick<Env, "LISTEN_BUS">, tenant: string, incarnation: string, server: string) =>
  env.LISTEN_BUS.get(env.LISTEN_BUS.idFromName(listenBusObjectName(tenant, incarnation, server)));
