/**
 * The deploy body of an SDK server (`"format": "sdk-bundle/1"`), as `pnpm smcp deploy`
 * produces it: one bundled ES module, the package files it reads at run time, and how
 * to start it (kind, argv, non-secret env, config). Read with a bound, checked here in
 * full before anything runs or is stored; the JSON text as received is what is stored.
 */
import { z } from "zod";
import { SANDBOX_LIMITS } from "../limits";

export const SDK_BUNDLE_FORMAT = "sdk-bundle/1";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FILE_PATH = /^\/[^\0]{1,1023}$/;

const FileEntry = z.union([z.object({ text: z.string() }).strict(), z.object({ base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64") }).strict()]);

export const SdkBundleSchema = z
  .object({
    format: z.literal(SDK_BUNDLE_FORMAT),
    kind: z.enum(["stdio", "factory"]),
    sdk: z.enum(["v1", "v2", "unknown"]).default("unknown"),
    /** One ES module whose default export is the whole module wrapped in `async function (require)` (see docs/tenant-servers.md). */
    code: z.string().min(1, "the bundle has no code"),
    /** The Node built-ins the code requires (`node:path`, ...): the harness loads them before the code runs. */
    builtins: z.array(z.string().regex(/^node:[a-z_/0-9]{1,64}$/, "built-ins are named node:<name>")).max(128).default([]),
    entry: z.string().max(1024).optional(),
    root: z.string().regex(/^\/[A-Za-z0-9._/-]{0,255}$/, "root must be an absolute path").default("/app"),
    files: z
      .record(z.string().regex(FILE_PATH, "file paths must be absolute"), FileEntry)
      .refine((f) => Object.keys(f).length <= 2_000, "at most 2000 package files")
      .default({}),
    argv: z.array(z.string().max(4_096)).max(64).default([]),
    env: z
      .record(z.string().regex(ENV_NAME, "env names use letters, digits and _"), z.string().max(16_384))
      .refine((e) => Object.keys(e).length <= 128, "at most 128 env entries")
      .default({}),
    config: z.record(z.string(), z.unknown()).optional(),
    package: z.object({ name: z.string().max(214), version: z.string().max(64) }).partial().optional(),
  })
  .strict();

export type SdkBundle = z.output<typeof SdkBundleSchema>;

/** What the admin view and the deploy answer say about a bundle, without its code. */
export const bundleSummary = (b: SdkBundle) => ({ start: b.kind, sdk: b.sdk, package: b.package ?? null, argv: b.argv, env: Object.keys(b.env) });

export type BundleParse = { ok: true; bundle: SdkBundle } | { ok: false; reason: string };

export function parseSdkBundle(value: unknown): BundleParse {
  const parsed = SdkBundleSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join(".") || "body"}: ${issue.message}` };
  }
  return { ok: true, bundle: parsed.data };
}

/** Whether a parsed deploy body is an SDK bundle (and not the module format's `{"module": ...}`). */
export const isSdkBundleBody = (body: unknown) => typeof body === "object" && body !== null && "format" in body;

export const maxSdkBundleBytes = SANDBOX_LIMITS.sdkBundleBytes;
