/**
 * A tenant's module bundle on its way in: read it with a bound, then prove it runs
 * before it may take traffic. The health check loads the module in a sandbox
 * isolate of its own (never the platform's), asks it to describe itself and parses
 * that manifest; a module that does not parse, throws while loading, exports the
 * wrong shape or declares something malformed is refused with the reason.
 */
import { WireError, readBoundedUtf8, wire } from "@smcp/runtime";
import type { Env } from "../env";
import { SandboxFailure, checkInSandbox, type SandboxCode, type SandboxTarget } from "./client";
import { SANDBOX_LIMITS } from "./limits";
import { parseManifest, type Manifest } from "./manifest";
import { isSdkBundleBody, maxSdkBundleBytes, parseSdkBundle, type SdkBundle } from "./sdk/bundle-format";

const JAVASCRIPT_TYPES = new Set(["application/javascript", "text/javascript", "application/x-javascript"]);

const tooLarge = () =>
  wire.badRequest("bundle_too_large", `The module is larger than ${SANDBOX_LIMITS.bundleBytes} bytes (1 MiB), the most a deployment may hold`);

/** What a deploy request carries: a module of the platform's format, or an SDK server bundle. */
export type DeployBody = { kind: "module"; source: string } | { kind: "sdk"; bundle: SdkBundle; text: string };

/**
 * The body of a deploy request: raw JavaScript (`Content-Type: application/javascript`),
 * JSON `{ "module": "<source>" }`, or an SDK server bundle (`{"format": "sdk-bundle/1", ...}`,
 * sandbox/sdk/bundle-format.ts). JSON is read up to the SDK bundle's bound; a module in it
 * is then held to the module's own.
 */
export async function readDeployBody(request: Request): Promise<DeployBody> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/json") return { kind: "module", source: await readJavaScript(request, type) };
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxSdkBundleBytes) throw sdkTooLarge();
  const read = await readBoundedUtf8(request, maxSdkBundleBytes);
  if (!read.ok) throw read.reason === "too-large" ? sdkTooLarge() : wire.badRequest("invalid_body", "The body is not valid UTF-8");
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch {
    throw wire.badRequest("invalid_body", "The body is not valid JSON");
  }
  if (!isSdkBundleBody(body)) return { kind: "module", source: moduleOf(body) };
  const parsed = parseSdkBundle(body);
  if (!parsed.ok) throw wire.badRequest("invalid_bundle", `The SDK server bundle is malformed: ${parsed.reason}`);
  return { kind: "sdk", bundle: parsed.bundle, text: read.text };
}

const sdkTooLarge = () =>
  wire.badRequest("bundle_too_large", `The bundle is larger than ${maxSdkBundleBytes} bytes (10 MiB), the most a deployment may hold`);

function moduleOf(body: unknown): string {
  const module = (body as { module?: unknown } | null)?.module;
  if (typeof module !== "string" || Object.keys(body as object).length !== 1) {
    throw wire.badRequest("invalid_body", 'The JSON body must be {"module": "<ES module source>"} or an SDK server bundle ({"format": "sdk-bundle/1", ...})');
  }
  return checkedModule(module);
}

/** A module of the platform's format sent as itself (`application/javascript`). */
async function readJavaScript(request: Request, type: string): Promise<string> {
  if (!JAVASCRIPT_TYPES.has(type)) {
    throw new WireError({
      status: 415,
      code: "unsupported_media_type",
      message: 'Content-Type must be application/javascript (the module itself) or application/json ({"module": "<source>"}, or an SDK server bundle)',
    });
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > SANDBOX_LIMITS.bundleBytes) throw tooLarge();
  const read = await readBoundedUtf8(request, SANDBOX_LIMITS.bundleBytes);
  if (!read.ok) throw read.reason === "too-large" ? tooLarge() : wire.badRequest("invalid_body", "The module is not valid UTF-8");
  return checkedModule(read.text);
}

/** The module's own rules, however it came: not empty, at most the module bound in UTF-8. */
function checkedModule(source: string): string {
  if (source.trim() === "") throw wire.badRequest("bundle_empty", "The module is empty");
  if (new TextEncoder().encode(source).byteLength > SANDBOX_LIMITS.bundleBytes) throw tooLarge();
  return source;
}

export type BundleCheck = { ok: true; manifest: Manifest } | { ok: false; reason: string };

/** Loads `code` (the module and the server's secrets) as `target` in a sandbox and checks what it declares. */
export async function checkBundle(env: Env, target: SandboxTarget, code: SandboxCode): Promise<BundleCheck> {
  try {
    const reply = await checkInSandbox(env, target, code);
    if (!reply.ok) return { ok: false, reason: `the module's exports are wrong: ${reply.error}` };
    const manifest = parseManifest(reply.manifest);
    return manifest.ok ? manifest : { ok: false, reason: `the module declares something invalid: ${manifest.reason}` };
  } catch (err) {
    if (err instanceof SandboxFailure) return { ok: false, reason: `the module failed to load: ${err.message}` };
    throw err;
  }
}
