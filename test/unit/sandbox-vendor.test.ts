// The sandbox's bundled JSON Schema validator (workers/smcp/src/sandbox/vendor/
// json-schema.generated.ts) is what the installed @cfworker/json-schema bundles to:
// after a version bump, `pnpm build:sandbox` must be run and its output committed.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { GENERATED, generateJsonSchemaModule } from "../../scripts/lib/sandbox-vendor.mjs";

describe("sandbox vendor modules", () => {
  it("untrusted:messages — the committed validator module equals a fresh bundle of the installed package", async () => {
    const fresh: string = await generateJsonSchemaModule();
    expect(readFileSync(GENERATED, "utf8")).toBe(fresh);
    expect(fresh).toContain("export const JSON_SCHEMA_VERSION = \"4.1.6\";");
  });

  it("untrusted:messages — the bundled module validates as the package does, with no eval", async () => {
    const { JSON_SCHEMA_SOURCE } = await import("../../workers/smcp/src/sandbox/vendor/json-schema.generated");
    expect(JSON_SCHEMA_SOURCE).not.toMatch(/\beval\(|new Function\(/);
    const url = `data:text/javascript;base64,${Buffer.from(JSON_SCHEMA_SOURCE).toString("base64")}`;
    const { Validator } = await import(/* @vite-ignore */ url);
    const validator = new Validator({ type: "object", properties: { n: { type: "number" } }, required: ["n"] }, "2020-12", true);
    expect(validator.validate({ n: 1 }).valid).toBe(true);
    expect(validator.validate({ n: "x" }).errors.map((e: { error: string }) => e.error)).toContain('Instance type "string" is invalid. Expected "number".');
  });
});

describe("sandbox fs shim", () => {
  it("deployed:files — the committed shim text equals fs-shim.js and fs-promises-shim.js", async () => {
    // @ts-expect-error: a plain .mjs build script, without type declarations
    const { FS_GENERATED, generateFsShimModule } = await import("../../scripts/lib/sandbox-files.mjs");
    expect(readFileSync(FS_GENERATED, "utf8")).toBe(generateFsShimModule());
  });
});
