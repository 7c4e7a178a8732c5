/** The bindings and variables of the SMCP Worker (see `wrangler.jsonc`). */
import type { SessionDO } from "./session-do";
import type { TenantDO } from "./tenant-do";
import type { DirectoryDO } from "./directory-do";
import type { OAuthLimiterDO } from "./oauth/limiter-do";

export interface Env {
  SESSION: DurableObjectNamespace<SessionDO>;
  TENANT: DurableObjectNamespace<TenantDO>;
  DIRECTORY: DurableObjectNamespace<DirectoryDO>;
  /** OAuth client registrations (oauth/clients.ts); grants and tokens live in each TenantDO. */
  OAUTH_KV: KVNamespace;
  /** OAuth abuse limits: one object per client-address digest and per tenant (oauth/limiter-do.ts). */
  OAUTH_LIMITER: DurableObjectNamespace<OAuthLimiterDO>;
  /** Loads deployed (tenant-written) servers into isolates of their own (sandbox/client.ts). */
  LOADER: WorkerLoader;
  SMCP_ADMIN_TOKEN?: string;
  SMCP_VERSION?: string;
  SMCP_SESSION_TTL_SECONDS?: string;
  SMCP_MAX_BODY_BYTES?: string;
  SMCP_EVENT_LOG_MAX_EVENTS?: string;
  SMCP_EVENT_LOG_MAX_BYTES?: string;
  SMCP_SSE_RETRY_MS?: string;
  SMCP_SESSION_END_TIMEOUT_MS?: string;
  SMCP_ALLOW_PUBLIC_TENANTS?: string;
  SMCP_ALLOW_LOOPBACK_EGRESS?: string;
  SMCP_ALLOWED_ORIGINS?: string;
  SMCP_OAUTH_RATE_WINDOW_SECONDS?: string;
  SMCP_OAUTH_REGISTER_PER_ADDRESS?: string;
  SMCP_OAUTH_AUTHORIZE_PER_ADDRESS?: string;
  SMCP_OAUTH_TOKEN_PER_ADDRESS?: string;
  SMCP_OAUTH_REQUESTS_PER_TENANT?: string;
  SMCP_OAUTH_CLIENTS_PER_ADDRESS?: string;
  SMCP_MAX_LISTEN_STREAMS_PER_TENANT?: string;
  SMCP_DEFAULT_TOOL_DATA_ROWS?: string;
}

export const tenantStub = (env: Env, tenant: string) => env.TENANT.get(env.TENANT.idFromName(`tenant:${tenant}`));

export const directoryStub = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
