// `pnpm build:sandbox`: regenerates the sandbox's bundled JSON Schema validator and the
// text of its fs shim (see scripts/lib/sandbox-vendor.mjs and sandbox-files.mjs for why
// they are generated and committed).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { FS_GENERATED, generateFsShimModule } from "./lib/sandbox-files.mjs";
import { GENERATED, ROOT, generateJsonSchemaModule } from "./lib/sandbox-vendor.mjs";

mkdirSync(path.dirname(GENERATED), { recursive: true });
writeFileSync(GENERATED, await generateJsonSchemaModule());
console.log(`wrote ${path.relative(ROOT, GENERATED)}`);
writeFileSync(FS_GENERATED, generateFsShimModule());
console.log(`wrote ${path.relative(ROOT, FS_GENERATED)}`);
