// `pnpm build:sandbox`: regenerates the sandbox's bundled JSON Schema validator
// (see scripts/lib/sandbox-vendor.mjs for why it is generated and committed).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GENERATED, ROOT, generateJsonSchemaModule } from "./lib/sandbox-vendor.mjs";

mkdirSync(path.dirname(GENERATED), { recursive: true });
writeFileSync(GENERATED, await generateJsonSchemaModule());
console.log(`wrote ${path.relative(ROOT, GENERATED)}`);
