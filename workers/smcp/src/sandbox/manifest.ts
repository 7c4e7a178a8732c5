/**
 * The manifest of a deployed server: the tools, resources and prompts its module
 * declares, as the sandbox reports them at deploy time.
 *
 * The report comes from tenant code, so it is untrusted input: it is parsed here
 * and bounded in count and size before the deployment may take traffic. Its JSON
 * Schemas are only data here: they were compiled in the sandbox that reported them
 * (harness.ts), and no platform isolate compiles or evaluates them. The platform then serves `tools/list` and friends
 * from the stored manifest, without asking the sandbox again.
 */
import { z } from "zod";
import { SANDBOX_LIMITS } from "./limits";

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "names use letters, digits, _ . - (at most 128)");
const text = (max: number) => z.string().max(max).optional();
const jsonObject = z.record(z.string(), z.unknown());
const objectSchema = jsonObject.refine((s) => s.type === "object", 'must be a JSON Schema with "type": "object"');

const ToolEntry = z
  .object({
    name,
    title: text(200),
    description: text(4_000),
    inputSchema: objectSchema,
    outputSchema: objectSchema.optional(),
    annotations: jsonObject.optional(),
  })
  .strict();

const ResourceEntry = z
  .object({
    uri: z.string().max(1_000).refine((u) => URL.canParse(u), "must be an absolute URI"),
    name,
    title: text(200),
    description: text(4_000),
    mimeType: text(200),
  })
  .strict();

const PromptEntry = z
  .object({
    name,
    title: text(200),
    description: text(4_000),
    arguments: z
      .array(z.object({ name, description: text(1_000), required: z.boolean().optional() }).strict())
      .max(32),
  })
  .strict();

const unique = (items: { name?: string; uri?: string }[]) => new Set(items.map((i) => i.uri ?? i.name)).size === items.length;

const ManifestSchema = z
  .object({
    tools: z.array(ToolEntry).max(SANDBOX_LIMITS.maxItems).refine(unique, "tool names must be unique"),
    resources: z.array(ResourceEntry).max(SANDBOX_LIMITS.maxItems).refine(unique, "resource URIs must be unique"),
    prompts: z.array(PromptEntry).max(SANDBOX_LIMITS.maxItems).refine(unique, "prompt names must be unique"),
  })
  .strict()
  .refine((m) => m.tools.length + m.resources.length + m.prompts.length > 0, "the module declares no tools, resources or prompts");

export type Manifest = z.output<typeof ManifestSchema>;
export type ToolEntry = Manifest["tools"][number];
export type ResourceEntry = Manifest["resources"][number];
export type PromptEntry = Manifest["prompts"][number];

export type ManifestCheck = { ok: true; manifest: Manifest } | { ok: false; reason: string };

/** Parses what the sandbox reported; the reason names the first problem found. */
export function parseManifest(reported: unknown): ManifestCheck {
  const parsed = ManifestSchema.safeParse(reported);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return { ok: false, reason: `${where}${issue?.message ?? "invalid manifest"}` };
  }
  return { ok: true, manifest: parsed.data };
}
