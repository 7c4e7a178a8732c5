/**
 * Which `ServerModule` serves `/mcp/{tenant}/{server}`: a built-in one, or the
 * active deployment of the tenant's own code.
 *
 * Call sites (the session Durable Object, the stateless lane, the endpoint's 404
 * check) ask here and get the same `ServerModule` contract either way; for a
 * deployed server, `create()` builds a real `McpServer` whose handlers call into the
 * sandbox (proxy-server.ts). What the active deployment is, is cached in the isolate
 * for a few seconds, so a request does not pay a tenant round trip; a deploy or a
 * rollback reaches every isolate within that time, and the isolate that made the
 * change at once. A session keeps the version its server was built with until its
 * object is rebuilt (see docs/tenant-servers.md).
 */
import { builtInServers, type ServerModule } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { callSandbox, type SandboxTarget } from "./client";
import type { ActiveDeployment } from "./deployment-store";
import { ACTIVE_DEPLOYMENT_CACHE_MS } from "./limits";
import type { Manifest } from "./manifest";
import { createProxyServer } from "./proxy-server";
import { recordCall } from "./stats";

const MAX_CACHE_ENTRIES = 1_000;

/** Per tenant/server: the module last resolved, until when it may be trusted. */
const cache = new Map<string, { until: number; module: ServerModule | null; deployment: ActiveDeployment | null }>();

/**
 * The module serving `server` for `tenant`, or null when there is none. Built-in
 * names always mean the built-in server; a tenant cannot shadow them.
 */
export async function resolveServerModule(env: Env, tenant: string, server: string): Promise<ServerModule | null> {
  const builtIn = builtInServers.get(server);
  if (builtIn) return builtIn;
  const key = `${tenant}/${server}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.module;
  const result = await tenantStub(env, tenant).deploymentActive(server);
  const deployment = result.ok ? result.value : null;
  // Same version and egress as before: keep the module object.
  const same = hit?.deployment && deployment && sameDeployment(hit.deployment, deployment);
  const module = same ? hit.module : deployment ? deployedModule(env, tenant, deployment) : null;
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, module, deployment });
  return module;
}

/** Forgets what this isolate knows about a server's deployment (after a deploy, rollback or egress change). */
export function forgetResolvedServer(tenant: string, server: string): void {
  cache.delete(`${tenant}/${server}`);
}

const sameDeployment = (a: ActiveDeployment, b: ActiveDeployment) =>
  a.version === b.version && a.hash === b.hash && a.egressRevision === b.egressRevision;

function deployedModule(env: Env, tenant: string, deployment: ActiveDeployment): ServerModule {
  const target: SandboxTarget = {
    tenant,
    server: deployment.server,
    version: deployment.version,
    hash: deployment.hash,
    egress: deployment.egress,
    egressRevision: deployment.egressRevision,
  };
  const source = async () => {
    const stored = await tenantStub(env, tenant).deploymentGet(deployment.server, deployment.version, true);
    if (!stored.ok || !stored.value?.source) throw new Error(`version ${deployment.version} of ${deployment.server} is no longer stored`);
    return stored.value.source;
  };
  const manifest = JSON.parse(deployment.manifestJson) as Manifest;
  return {
    name: deployment.server,
    title: deployment.server,
    version: `v${deployment.version}`,
    create: () =>
      createProxyServer({
        tenant,
        server: deployment.server,
        version: deployment.version,
        manifest,
        call: (op, payload) => callSandbox(env, target, source, op, payload),
        record: (error) => recordCall(env, { tenant, server: deployment.server, version: deployment.version, error }),
      }),
  };
}
