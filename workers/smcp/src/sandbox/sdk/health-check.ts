/**
 * A deploy's health check for an SDK server: start it in a check isolate of its own
 * (never one that serves), perform `initialize`, then list what it offers. What it
 * answers becomes the version's manifest: the admin view's tools, the deploy's answer,
 * and what the stateless lane serves `tools/list` and friends from. The manifest is
 * tenant output: checked against the MCP result schemas and bounded in size.
 */
import { isSpecType } from "@modelcontextprotocol/server";
import { SANDBOX_LIMITS } from "../limits";
import type { SdkBundle } from "./bundle-format";
import { InstanceClient, InstanceCallError } from "./instance-client";
import { SandboxInstance, type InstanceTarget } from "./instance";

export interface SdkManifest {
  kind: "sdk";
  bundle: { kind: SdkBundle["kind"]; sdk: SdkBundle["sdk"]; package: SdkBundle["package"] | null };
  protocolVersion: string;
  serverInfo: Record<string, unknown>;
  capabilities: Record<string, unknown>;
  instructions?: string;
  tools: Record<string, unknown>[];
  resources: Record<string, unknown>[];
  resourceTemplates: Record<string, unknown>[];
  prompts: Record<string, unknown>[];
}

export type SdkCheck = { ok: true; manifest: SdkManifest; console: string[] } | { ok: false; reason: string; console: string[] };

const MAX_PAGES = 10;
const CHECK_TIMEOUT_MS = 15_000;

export async function checkSdkServer(env: { LOADER: WorkerLoader }, target: InstanceTarget, bundle: SdkBundle, vars: Readonly<Record<string, string>>): Promise<SdkCheck> {
  const console: string[] = [];
  const keep = (level: string, line: string) => {
    if (console.length < 20) console.push(`${level}: ${line}`);
  };
  let client: InstanceClient | undefined;
  try {
    const opened = await InstanceClient.open({
      start: (events) => SandboxInstance.start(env, target, bundle, vars, events),
      timeoutMs: CHECK_TIMEOUT_MS,
      noClient: "SMCP: this is a deploy's health check; no client is connected to answer",
      console: keep,
    });
    client = opened.client;
    const init = opened.initialize;
    if (!isSpecType.InitializeResult(init)) return { ok: false, reason: "its initialize result is not a valid MCP InitializeResult", console };
    const capabilities = (init.capabilities ?? {}) as Record<string, unknown>;
    const list = async (method: string, key: string, check: (v: unknown) => boolean) => {
      const items: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await client!.request(method, cursor ? { cursor } : {});
        if (!check(result)) throw new InstanceCallError(`its ${method} result is not valid MCP`);
        items.push(...((result[key] as Record<string, unknown>[]) ?? []));
        cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
        if (!cursor) break;
      }
      return items;
    };
    const manifest: SdkManifest = {
      kind: "sdk",
      bundle: { kind: bundle.kind, sdk: bundle.sdk, package: bundle.package ?? null },
      protocolVersion: String(init.protocolVersion),
      serverInfo: init.serverInfo as Record<string, unknown>,
      capabilities,
      ...(typeof init.instructions === "string" ? { instructions: init.instructions } : {}),
      tools: capabilities.tools ? await list("tools/list", "tools", isSpecType.ListToolsResult) : [],
      resources: capabilities.resources ? await list("resources/list", "resources", isSpecType.ListResourcesResult) : [],
      resourceTemplates: capabilities.resources ? await list("resources/templates/list", "resourceTemplates", isSpecType.ListResourceTemplatesResult).catch(() => []) : [],
      prompts: capabilities.prompts ? await list("prompts/list", "prompts", isSpecType.ListPromptsResult) : [],
    };
    if (JSON.stringify(manifest).length > SANDBOX_LIMITS.manifestBytes * 4) {
      return { ok: false, reason: `what it declares (tools, resources, prompts) is larger than ${SANDBOX_LIMITS.manifestBytes * 4} bytes`, console };
    }
    return { ok: true, manifest, console };
  } catch (err) {
    return { ok: false, reason: (err as Error).message, console };
  } finally {
    client?.close();
  }
}
