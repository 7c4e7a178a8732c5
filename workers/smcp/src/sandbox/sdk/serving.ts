/**
 * How a deployed SDK server version is served, for both lanes: what resolve-server.ts
 * hands a call site for an `sdk` deployment.
 *
 * - Session lane: the session object builds a `SandboxRelay` from `sdk` (starting one
 *   instance per session, on the version the session started with).
 * - Stateless lane: `create()` builds a platform McpServer whose lists come from the
 *   version's manifest (taken by the deploy's health check) and whose calls each run
 *   in a fresh instance with `initialize` replayed (stateless-server.ts). A request of
 *   the server's to the client gets an error there that says why.
 *
 * The bundle is fetched from the tenant once per hash and kept in a byte-bounded cache.
 *
 * Task tools (the 2026-07-28 Tasks extension): a tool the server lists with
 * `execution.taskSupport` "optional" or "required" (the field of the 2025-11-25
 * revision its health check speaks) runs as a task for a client that declares the
 * extension; the tenant's TaskDO runs each round in a fresh instance of the version
 * active when the task was created. SDK 2.4.0 has no server side for tasks, so the
 * server writes no task code: it declares the tool, the platform holds the task. Not
 * for SDK v1 servers (see taskToolsOf).
 */
import { BoundedCache, stringBytes } from "@smcp/runtime";
import type { ServerModule, TaskToolPolicy } from "@smcp/servers";
import { tenantStub, type Env } from "../../env";
import { parseSdkBundle, type SdkBundle } from "./bundle-format";
import type { SdkManifest } from "./health-check";
import { SandboxInstance, type InstanceEvents, type InstanceTarget } from "./instance";
import { createStatelessSdkServer } from "./stateless-server";

/** What a call site needs to run instances of one deployed SDK server version. */
export interface SdkServing extends Omit<SdkVersion, "egress"> {
  /** Starts an instance for `purpose` (a session id, `stateless` or `task`), on `revision` without initialize where the server allows. */
  start(purpose: string, events: InstanceEvents, revision?: string): Promise<SandboxInstance>;
  redact(text: string): Promise<string>;
  record(error?: { kind: string; message: string }): void;
}

export interface SdkModule extends ServerModule {
  sdk: SdkServing;
}

export const isSdkModule = (m: ServerModule | null | undefined): m is SdkModule => !!m && "sdk" in m;

const bundles = new BoundedCache<SdkBundle>({ maxBytes: 32 * 1024 * 1024, ttlMs: 10 * 60_000, sizeOf: (b) => 2 * stringBytes(b.code) + stringBytes(JSON.stringify(b.files)) + 4_096 });

/** The stored bundle of a version, checked again as it comes out of storage. */
export async function loadSdkBundle(env: Env, tenant: string, server: string, version: number, hash: string): Promise<SdkBundle> {
  // By content hash: the same bytes are the same bundle, whichever version or tenant stored them.
  const hit = bundles.get(hash);
  if (hit) return hit;
  const stored = await tenantStub(env, tenant).deploymentGet(server, version, true);
  // The hash check: a tenant created again under this id may store other code as the same version number.
  if (!stored.ok || !stored.value?.source || stored.value.hash !== hash) throw new Error(`version ${version} of ${server} is no longer stored`);
  const parsed = parseSdkBundle(JSON.parse(stored.value.source));
  if (!parsed.ok) throw new Error(`version ${version} of ${server} is stored malformed: ${parsed.reason}`);
  bundles.set(hash, parsed.bundle);
  return parsed.bundle;
}

/** One stored version, as a call site knows it: what an instance of it needs, and its manifest. */
export interface SdkVersion extends Omit<InstanceTarget, "purpose"> {
  manifest: SdkManifest;
}

export function sdkModule(
  env: Env,
  v: SdkVersion,
  vars: () => Promise<Readonly<Record<string, string>>>,
  redact: (text: string) => Promise<string>,
  record: (error?: { kind: string; message: string }) => void,
): SdkModule {
  const sdk: SdkServing = {
    ...v,
    async start(purpose, events, revision) {
      const [bundle, opened] = await Promise.all([loadSdkBundle(env, v.tenant, v.server, v.version, v.hash), vars()]);
      const { manifest: _, ...version } = v;
      const target: InstanceTarget = { ...version, purpose, ...(revision ? { revision } : {}) };
      return SandboxInstance.start(env, target, bundle, opened, events);
    },
    redact,
    record,
  };
  return {
    name: v.server,
    title: String(v.manifest.serverInfo?.title ?? v.server),
    version: `v${v.version}`,
    sdk,
    create: () => createStatelessSdkServer(sdk),
    ...taskToolsOf(v.manifest),
  };
}

/** The manifest's tools that declare task support, as the Tasks extension's policies. */
export function taskToolsOf(manifest: SdkManifest): { taskTools?: Record<string, TaskToolPolicy> } {
  // An SDK v1 server's taskSupport is its own experimental (2025-11-25) tasks, which expect
  // task-augmented calls the platform does not make: out of scope, its tools stay plain calls.
  if (manifest.bundle.sdk === "v1") return {};
  const policies: Record<string, TaskToolPolicy> = {};
  for (const tool of manifest.tools) {
    const support = (tool.execution as { taskSupport?: unknown } | undefined)?.taskSupport;
    if (typeof tool.name === "string" && (support === "optional" || support === "required")) policies[tool.name] = { support };
  }
  return Object.keys(policies).length ? { taskTools: policies } : {};
}
