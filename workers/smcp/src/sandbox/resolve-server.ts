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
 *
 * The cache is bounded in bytes: a resolved deployment holds its manifest text and the
 * parsed manifest, estimated as three times the manifest's text plus a fixed part
 * (names, egress list, the module object).
 */
import { BoundedCache, redactSecrets, stringBytes } from "@smcp/runtime";
import { builtInServers, type ServerModule } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { SandboxFailure, callSandbox, type SandboxTarget } from "./client";
import type { ActiveDeployment } from "./deployment-store";
import type { SecretsSummary } from "../tenant/secrets";
import { secretVars, serverSecrets, type ServerSecrets } from "./secrets-env";
import { ACTIVE_DEPLOYMENT_CACHE_MS } from "./limits";
import type { Manifest } from "./manifest";
import { createProxyServer } from "./proxy-server";
import { recordCall } from "./stats";
import type { SdkManifest } from "./sdk/health-check";
import { sdkModule } from "./sdk/serving";
import { upstreamModule, type ServedUpstream } from "../gateway/serving";
import type { ToolPolicy } from "../policy/tool-policy";

interface Resolved {
  until: number;
  /** The incarnation of the tenant it was resolved for: another incarnation's entry is a miss. */
  incarnation: string;
  module: ServerModule | null;
  deployment: ServedDeployment | null;
  /** Set when the name fronts an upstream (gateway) instead. */
  upstream?: ServedUpstream | null;
}

/** The active deployment as the tenant object reports it: with its secrets' revision and size, never their values. */
export type ServedDeployment = ActiveDeployment & { secrets: SecretsSummary };

// The opened secrets a module may come to hold count too (twice: values and their redaction forms).
const estimatedBytes = ({ deployment, upstream }: Resolved) =>
  upstream ? 2_048 + 3 * stringBytes(JSON.stringify(upstream)) + 2 * upstream.secrets.bytes : deployment ? 2_048 + 3 * stringBytes(deployment.manifestJson) + stringBytes(deployment.egress.join(",")) + 2 * deployment.secrets.bytes : 64;

/**
 * Per tenant/server: the module last resolved, until when it may be trusted. Entries
 * stay a while past that, so that a re-check finding the same version reuses the module.
 */
const cache = new BoundedCache<Resolved>({ maxBytes: 16 * 1024 * 1024, ttlMs: 10 * 60_000, sizeOf: estimatedBytes });

/**
 * What the Worker resolved a request's server to, as it hands it to the session object
 * in its RPC call: the session builds the same module from it without asking again.
 */
export type ServerRef = { kind: "built-in" } | { kind: "deployed"; deployment: ServedDeployment } | { kind: "upstream"; upstream: ServedUpstream };

/**
 * Per tenant/server: its tool policy (policy/tool-policy.ts), trusted as long as a
 * resolved deployment is, and fetched alongside it on a miss (built-in servers too).
 */
const policies = new BoundedCache<{ until: number; incarnation: string; policy: ToolPolicy | null }>({
  maxBytes: 4 * 1024 * 1024,
  ttlMs: 60_000,
  sizeOf: (e) => 256 + (e.policy ? 2 * stringBytes(JSON.stringify(e.policy)) : 0),
});

/** The tool policy of `server` (null: none), from this isolate's cache when it is fresh. */
export async function resolvePolicy(env: Env, tenant: string, incarnation: string, server: string): Promise<ToolPolicy | null> {
  const key = `${tenant}/${server}`;
  const now = Date.now();
  const hit = policies.get(key, now);
  if (hit && hit.incarnation === incarnation && hit.until > now) return hit.policy;
  const result = await tenantStub(env, tenant).policyActive(server, incarnation);
  const policy = result.ok ? result.value : null;
  policies.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, incarnation, policy }, now);
  return policy;
}

/** The module serving `server`, the ref that names it and its tool policy, or null when there is none. */
export async function resolveServer(env: Env, tenant: string, incarnation: string, server: string): Promise<{ module: ServerModule; ref?: ServerRef; policy: ToolPolicy | null } | null> {
  const [resolved, policy] = await Promise.all([resolveServerRef(env, tenant, incarnation, server), resolvePolicy(env, tenant, incarnation, server)]);
  return resolved ? { ...resolved, policy } : null;
}

async function resolveServerRef(env: Env, tenant: string, incarnation: string, server: string): Promise<{ module: ServerModule; ref?: ServerRef } | null> {
  const module = await resolveServerModule(env, tenant, incarnation, server);
  if (!module) return null;
  if (builtInServers.has(server)) return { module, ref: { kind: "built-in" } };
  const entry = cache.get(`${tenant}/${server}`);
  const deployment = entry?.deployment;
  const upstream = entry?.upstream;
  // No ref when the cache let the entry go meanwhile: the session object then resolves it itself.
  if (upstream) return { module, ref: { kind: "upstream", upstream } };
  return { module, ...(deployment ? { ref: { kind: "deployed" as const, deployment } } : {}) };
}

/**
 * The module a ref names, from this isolate's cache when it holds the same version (no
 * tenant call), else built from the ref itself: the session object's half of "resolved once".
 */
export function moduleOfRef(env: Env, tenant: string, incarnation: string, server: string, ref: ServerRef): ServerModule | null {
  if (ref.kind === "built-in") return builtInServers.get(server) ?? null;
  const key = `${tenant}/${server}`;
  const now = Date.now();
  const hit = cache.get(key, now);
  if (ref.kind === "upstream") {
    if (hit?.incarnation === incarnation && hit.upstream && sameUpstream(hit.upstream, ref.upstream)) return hit.module;
    const module = upstreamModule(env, tenant, incarnation, ref.upstream);
    cache.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, incarnation, module, deployment: null, upstream: ref.upstream }, now);
    return module;
  }
  if (hit?.incarnation === incarnation && hit.deployment && sameDeployment(hit.deployment, ref.deployment)) return hit.module;
  const module = deployedModule(env, tenant, incarnation, ref.deployment);
  cache.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, incarnation, module, deployment: ref.deployment }, now);
  return module;
}

/**
 * The module serving `server` for `tenant`, or null when there is none. Built-in
 * names always mean the built-in server; a tenant cannot shadow them.
 */
export async function resolveServerModule(env: Env, tenant: string, incarnation: string, server: string): Promise<ServerModule | null> {
  const builtIn = builtInServers.get(server);
  if (builtIn) return builtIn;
  const key = `${tenant}/${server}`;
  const now = Date.now();
  // An entry resolved for another incarnation of the tenant is not this tenant's: a miss.
  const cached = cache.get(key, now);
  const hit = cached?.incarnation === incarnation ? cached : undefined;
  if (hit && hit.until > now) return hit.module;
  const result = await tenantStub(env, tenant).deploymentActive(server, incarnation);
  const deployment = result.ok ? result.value : null;
  if (!deployment && result.ok) {
    // Not deployed: an upstream server, or nothing (one more tenant call, only on a cache miss).
    const up = await tenantStub(env, tenant).upstreamActive(server, incarnation);
    if (up.ok && up.value) {
      const upstream: ServedUpstream = { ...up.value, server };
      const module = hit?.upstream && sameUpstream(hit.upstream, upstream) ? hit.module : upstreamModule(env, tenant, incarnation, upstream);
      cache.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, incarnation, module, deployment: null, upstream }, now);
      return module;
    }
  }
  // Same version and egress as before: keep the module object.
  const same = hit?.deployment && deployment && sameDeployment(hit.deployment, deployment);
  const module = same ? hit.module : deployment ? deployedModule(env, tenant, incarnation, deployment) : null;
  cache.set(key, { until: now + ACTIVE_DEPLOYMENT_CACHE_MS, incarnation, module, deployment }, now);
  return module;
}

/**
 * The module of one stored version of a deployed server: what a session rebuilds with
 * when the active version moved on since it started (a session keeps its version for
 * its whole life). Null when the version is gone.
 */
export async function resolveServerVersion(env: Env, tenant: string, incarnation: string, server: string, version: number): Promise<ServerModule | null> {
  const stub = tenantStub(env, tenant);
  const [active, stored] = await Promise.all([stub.deploymentActive(server, incarnation), stub.deploymentGet(server, version, false)]);
  if (!active.ok || !active.value || !stored.ok || !stored.value) return null;
  const { manifestJson, hash, kind } = stored.value;
  return deployedModule(env, tenant, incarnation, { ...active.value, version, hash, kind, manifestJson });
}

/** Forgets what this isolate knows about a server's deployment (after a deploy, rollback or egress change). */
export function forgetResolvedServer(tenant: string, server: string): void {
  cache.delete(`${tenant}/${server}`);
  policies.delete(`${tenant}/${server}`);
}

const sameUpstream = (a: ServedUpstream, b: ServedUpstream) =>
  a.url === b.url && a.updatedAt === b.updatedAt && JSON.stringify(a.headers) === JSON.stringify(b.headers) && a.secrets.revision === b.secrets.revision;

const sameDeployment = (a: ServedDeployment, b: ServedDeployment) =>
  a.version === b.version && a.hash === b.hash && a.egressRevision === b.egressRevision && a.secrets.revision === b.secrets.revision;

/** The redacted text, or a note in its place when the secrets to redact it with cannot be read. */
const WITHHELD = "[withheld: the server's secrets could not be read to redact this line]";

function deployedModule(env: Env, tenant: string, incarnation: string, deployment: ServedDeployment): ServerModule {
  const target: SandboxTarget = {
    tenant,
    incarnation,
    server: deployment.server,
    version: deployment.version,
    hash: deployment.hash,
    egress: deployment.egress,
    egressRevision: deployment.egressRevision,
    secretsRevision: deployment.secrets.revision,
  };
  // Opened once per module, when its isolate is first loaded or a line needs redacting; a failure is not kept.
  let opened: Promise<ServerSecrets> | null = null;
  const secrets = () => {
    const pending = (opened ??= serverSecrets(env, tenant, incarnation, deployment.server));
    const forget = () => {
      if (opened === pending) opened = null;
    };
    void pending.then((s) => !s.ok && forget(), forget);
    return pending;
  };
  const redact = async (text: string) => {
    if (deployment.secrets.count === 0 || text === "") return text;
    const s = await secrets().catch(() => null);
    if (s === null) return WITHHELD;
    // Secrets that do not open were never given to an isolate of this revision: nothing to redact.
    return s.ok ? redactSecrets(text, s.values) : text;
  };
  const load = async () => {
    const vars = await secrets();
    if (!vars.ok) throw new SandboxFailure("crash", `cannot load its secrets: ${vars.message}`);
    return { source: await source(), vars: secretVars(vars.values) };
  };
  const source = async () => {
    const stored = await tenantStub(env, tenant).deploymentGet(deployment.server, deployment.version, true);
    // The hash check: a tenant created again under this id may store other code as the same version number.
    if (!stored.ok || !stored.value?.source || stored.value.hash !== deployment.hash) {
      throw new Error(`version ${deployment.version} of ${deployment.server} is no longer stored`);
    }
    return stored.value.source;
  };
  const record = (error?: { kind: string; message: string }) =>
    recordCall(env, { tenant, incarnation, server: deployment.server, version: deployment.version, error });
  if (deployment.kind === "sdk") {
    const vars = async () => {
      const opened = await secrets();
      if (!opened.ok) throw new SandboxFailure("crash", `cannot load its secrets: ${opened.message}`);
      return secretVars(opened.values);
    };
    const version = { tenant, incarnation, server: deployment.server, version: deployment.version, hash: deployment.hash, egress: deployment.egress };
    return sdkModule(env, { ...version, manifest: JSON.parse(deployment.manifestJson) as SdkManifest }, vars, redact, record);
  }
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
        call: async (op, payload) => {
          // Secrets that do not open fail the call here, before the loader: a code getter that
          // throws is reported by the runtime as an uncaught exception of the platform.
          if (deployment.secrets.count > 0) {
            const opened = await secrets();
            if (!opened.ok) throw new SandboxFailure("crash", `cannot load its secrets: ${opened.message}`);
          }
          return callSandbox(env, target, load, op, payload);
        },
        redact,
        record,
      }),
  };
}
