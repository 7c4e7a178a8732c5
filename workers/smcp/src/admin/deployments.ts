/**
 * `/admin/v1/tenants/{t}/servers/{s}/...` for servers a tenant deploys itself:
 * deploy a module, list and show versions, roll back (activate an older version),
 * set the egress allow-list, and the server's health view.
 *
 * A deploy is checked in a sandbox before anything is stored (sandbox/bundle.ts);
 * a refused module changes nothing, so the running version keeps serving. Built-in
 * server names cannot be deployed to.
 */
import { WireError, jsonResponse, platformConfig, redactSecrets, sha256Hex, wire, type NamedSecret } from "@smcp/runtime";
import { builtInServers } from "@smcp/servers";
import { z } from "zod";
import { listenBusStub, tenantStub, type Env } from "../env";
import { secretRefs } from "../gateway/upstream-config";
import { logEvent } from "../log";
import { publishListsChanged } from "../mcp/listen-bus";
import { checkBundle, readDeployBody } from "../sandbox/bundle";
import type { NewBundle } from "../sandbox/deployment-store";
import { bundleSummary, type SdkBundle } from "../sandbox/sdk/bundle-format";
import { checkSdkServer, type SdkManifest } from "../sandbox/sdk/health-check";
import type { Manifest } from "../sandbox/manifest";
import { checkEgressEntry } from "../sandbox/egress";
import { SANDBOX_LIMITS } from "../sandbox/limits";
import { forgetResolvedServer } from "../sandbox/resolve-server";
import { readBody } from "./read-body";
import { secretsForCheck } from "./secrets";
import { secretVars } from "../sandbox/secrets-env";
import { requireTenant, unknownTenant } from "./tenants";

function refuseBuiltIn(server: string): void {
  if (builtInServers.has(server)) {
    throw wire.conflict("server_is_built_in", `${server} is a built-in server; deploy your module under another name`);
  }
}

/** `PUT .../deployments`: check the module in a sandbox, then store it as the next version and make it active. */
export async function deploy(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const { incarnation } = await requireTenant(env, tenant);
  const stub = tenantStub(env, tenant);
  const upstream = await stub.upstreamGet(server);
  if (upstream.ok && upstream.value) {
    throw wire.conflict("server_is_upstream", `${server} fronts an upstream MCP server; deploy under another name, or remove its upstream first (DELETE .../servers/${server}/upstream)`);
  }
  const body = await readDeployBody(request);
  if (body.kind === "sdk") return deploySdk(env, tenant, incarnation, server, body.bundle, body.text);
  const source = body.source;
  const hash = await sha256Hex(source);
  const size = new TextEncoder().encode(source).byteLength;
  // The check isolate gets the server's secrets, as the serving one will (its module may read them as it loads).
  const secrets = await secretsForCheck(env, tenant, incarnation, server);
  // Version 0 names the not-yet-stored bundle: its check isolate is never one that serves.
  const target = { tenant, incarnation, server, version: 0, hash, egress: [], egressRevision: 0, secretsRevision: secrets.revision };
  const check = await checkBundle(env, target, { source, vars: secretVars(secrets.values) });
  if (!check.ok) {
    await stub.deploymentRefused(server, check.reason);
    throw wire.badRequest("bundle_rejected", `Deployment refused: ${check.reason}`);
  }
  return store(env, tenant, incarnation, server, { hash, size, source, manifestJson: JSON.stringify(check.manifest) }, summary(check.manifest));
}

/** Stores a checked version and makes it active; the answer says what it serves. */
async function store(env: Env, tenant: string, incarnation: string, server: string, bundle: NewBundle, offers: Record<string, unknown>): Promise<Response> {
  const result = await tenantStub(env, tenant).deploymentCreate(server, bundle);
  if (!result.ok) throw unknownTenant(tenant);
  if ("quota" in result.value) {
    const { limit, used } = result.value.quota;
    throw new WireError({
      status: 413,
      code: "deployment_quota",
      message: `This tenant's stored versions take ${used} of its ${limit} bytes; this one (${bundle.size} bytes) does not fit. Old versions are pruned as new ones are deployed; delete a server you no longer need`,
    });
  }
  forgetResolvedServer(tenant, server);
  const { info, created } = result.value;
  if (created) await newVersionActive(env, tenant, incarnation, server);
  return jsonResponse({ server, ...info, ...offers }, created ? 201 : 200);
}

/** An SDK server: started in a check isolate (`initialize`, then its lists) before it may take traffic. */
async function deploySdk(env: Env, tenant: string, incarnation: string, server: string, bundle: SdkBundle, text: string): Promise<Response> {
  const hash = await sha256Hex(text);
  const size = new TextEncoder().encode(text).byteLength;
  const secrets = await secretsForCheck(env, tenant, incarnation, server);
  const egress = await tenantStub(env, tenant).deploymentActive(server, incarnation);
  const allow = egress.ok && egress.value ? egress.value.egress : [];
  const target = { tenant, incarnation, server, version: 0, hash, egress: allow, purpose: "check" };
  const check = await checkSdkServer(env, target, bundle, secretVars(secrets.values));
  if (!check.ok) {
    const reason = await redactFor(secrets.values, check.reason);
    await tenantStub(env, tenant).deploymentRefused(server, reason);
    const console = check.console.length ? ` Its console said: ${await redactFor(secrets.values, check.console.join(" | "))}` : "";
    throw wire.badRequest("bundle_rejected", `Deployment refused: the server did not pass its health check: ${reason}.${console}`.slice(0, 4_000));
  }
  const { manifest } = check;
  return store(env, tenant, incarnation, server, { kind: "sdk", hash, size, source: text, manifestJson: JSON.stringify(manifest) }, {
    ...bundleSummary(bundle),
    serverInfo: manifest.serverInfo,
    ...summary(manifest),
  });
}

/** Listen streams of the server, in every isolate, hear that its lists may have changed. */
const newVersionActive = (env: Env, tenant: string, incarnation: string, server: string) =>
  publishListsChanged(listenBusStub(env, tenant, incarnation, server), (error) =>
    logEvent("warn", "list change of a new version not published", { tenant, server, error: error.message }),
  );

const redactFor = async (values: readonly NamedSecret[], text: string) => redactSecrets(text, values);

export async function listDeployments(env: Env, tenant: string, server: string): Promise<Response> {
  const result = await tenantStub(env, tenant).deploymentList(server);
  if (!result.ok) throw unknownTenant(tenant);
  return jsonResponse({ server, deployments: result.value });
}

/** `GET .../deployments/{version}` (`?source=1` adds the module source). */
export async function getDeployment(request: Request, env: Env, tenant: string, server: string, version: string): Promise<Response> {
  const withSource = new URL(request.url).searchParams.get("source") === "1";
  const result = await tenantStub(env, tenant).deploymentGet(server, versionNumber(server, version), withSource);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw noVersion(server, version);
  const { manifestJson, ...info } = result.value;
  return jsonResponse({ server, ...info, manifest: JSON.parse(manifestJson) });
}

/** `POST .../deployments/{version}/activate`: roll back (or forward) in one call, after a health check. */
export async function activateDeployment(env: Env, tenant: string, server: string, version: string): Promise<Response> {
  const { incarnation } = await requireTenant(env, tenant);
  const stub = tenantStub(env, tenant);
  const n = versionNumber(server, version);
  const stored = await stub.deploymentGet(server, n, true);
  if (!stored.ok) throw unknownTenant(tenant);
  if (!stored.value?.source) throw noVersion(server, version);
  const egress = await stub.deploymentActive(server, incarnation);
  const current = egress.ok && egress.value ? egress.value : { egress: [], egressRevision: 0 };
  const secrets = await secretsForCheck(env, tenant, incarnation, server);
  const target = {
    tenant,
    incarnation,
    server,
    version: n,
    hash: stored.value.hash,
    egress: current.egress,
    egressRevision: current.egressRevision,
    secretsRevision: secrets.revision,
  };
  const check = await checkBundle(env, target, { source: stored.value.source, vars: secretVars(secrets.values) });
  if (!check.ok) throw wire.badRequest("bundle_rejected", `Version ${n} fails its health check: ${check.reason}`);
  const result = await stub.deploymentActivate(server, n);
  if (!result.ok) throw unknownTenant(tenant);
  if (!result.value) throw noVersion(server, version);
  forgetResolvedServer(tenant, server);
  await newVersionActive(env, tenant, incarnation, server);
  return jsonResponse({ server, ...result.value });
}

const SetEgress = z.object({ allow: z.array(z.string()).max(SANDBOX_LIMITS.maxEgressHosts) }).strict();

/** `PUT .../egress` `{allow: [...]}`: the hosts the server's code may fetch; `[]` means no network at all. */
export async function setEgress(request: Request, env: Env, tenant: string, server: string): Promise<Response> {
  refuseBuiltIn(server);
  const body = await readBody(request, SetEgress);
  const allow: string[] = [];
  const policy = { allowLoopback: platformConfig(env).SMCP_ALLOW_LOOPBACK_EGRESS };
  for (const raw of body.allow) {
    const entry = checkEgressEntry(raw, policy);
    if (!entry.ok) throw wire.badRequest("invalid_egress", entry.reason);
    if (!allow.includes(entry.entry)) allow.push(entry.entry);
  }
  const result = await tenantStub(env, tenant).deploymentSetEgress(server, allow);
  if (!result.ok) throw unknownTenant(tenant);
  forgetResolvedServer(tenant, server);
  return jsonResponse({ server, egress: result.value.allow });
}

/** `GET /tenants/{t}/servers/{s}`: what serves the name, and for a deployed server its version, status and errors. */
export async function getServer(env: Env, tenant: string, server: string): Promise<Response> {
  const stub = tenantStub(env, tenant);
  const servers = await stub.listServers();
  if (!servers.ok) throw unknownTenant(tenant);
  const enabled = servers.servers.some((s) => s.name === server);
  if (builtInServers.has(server)) return jsonResponse({ server, kind: "built-in", enabled });
  // Calls and failures of the last 24 hours, from the metrics rollups (every lane, every version;
  // they lag by the sessions' report interval, at most about 5 s). Per-version totals stay in the versions' list.
  const recent = await stub.metricsRecentCalls(server);
  const traffic = recent.ok
    ? { calls: recent.value.calls, errors: recent.value.errors, errorRate: recent.value.calls ? recent.value.errors / recent.value.calls : 0, latencyMs: recent.value.latencyMs }
    : { calls: 0, errors: 0, errorRate: 0, latencyMs: { p50: null, p95: null, p99: null } };
  const upstream = await stub.upstreamGet(server);
  if (upstream.ok && upstream.value) {
    const { url, headers, updatedAt } = upstream.value;
    return jsonResponse({ server, kind: "upstream", url, headers, secrets: secretRefs(headers), updatedAt, enabled, status: enabled ? "serving" : "disabled", health: upstream.health, ...traffic });
  }
  const view = await stub.deploymentView(server);
  if (!view.ok) throw unknownTenant(tenant);
  if (!view.value) throw wire.notFound("unknown_server", `No server ${server}: it is not built in and nothing was deployed under that name`);
  const { active, versions, lastErrors, egress, console } = view.value;
  const stored = active ? await stub.deploymentGet(server, active.version, false) : null;
  const manifest = stored?.ok && stored.value ? (JSON.parse(stored.value.manifestJson) as Manifest | SdkManifest) : null;
  return jsonResponse({
    server,
    kind: "deployed",
    format: active?.kind ?? null,
    ...(manifest && "bundle" in manifest ? { bundle: manifest.bundle, serverInfo: manifest.serverInfo } : {}),
    ...(manifest ? summary(manifest) : { tools: [], resources: [], prompts: [] }),
    enabled,
    version: active?.version ?? null,
    status: !active ? "no-active-version" : enabled ? "serving" : "disabled",
    hash: active?.hash ?? null,
    ...traffic,
    lastErrors,
    console,
    egress,
    versions,
  });
}

type Offers = { tools: { name?: unknown }[]; resources: { uri?: unknown }[]; prompts: { name?: unknown }[] };
function summary(manifest: Offers) {
  return { tools: manifest.tools.map((t) => String(t.name)), resources: manifest.resources.map((r) => String(r.uri)), prompts: manifest.prompts.map((p) => String(p.name)) };
}

function versionNumber(server: string, version: string): number {
  const n = Number(version);
  if (!/^[1-9][0-9]{0,8}$/.test(version)) throw noVersion(server, version);
  return n;
}

const noVersion = (server: string, version: string) => wire.notFound("unknown_version", `Server ${server} has no deployed version ${version}`);
