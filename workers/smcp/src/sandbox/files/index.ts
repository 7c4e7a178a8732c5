/**
 * Persistent files of deployed SDK servers (SPEC section 9): the modules a sandbox
 * loads in place of Node's `fs` (their source is fs-shim.js and fs-promises-shim.js,
 * kept as text in fs-shim.generated.ts by `pnpm build:sandbox`), and the platform
 * entrypoint behind them (entrypoint.ts). The store's rules: tenant/server-files.ts.
 *
 * The loader adds both modules under these names beside `tenant.js`; the bundle imports
 * them as `./__smcp/fs.js` and `./__smcp/fs-promises.js`. The harness awaits
 * `__init({ files: env.FILES, packageFiles, root })` of `__smcp/fs.js` before it
 * imports `tenant.js`, and `__flush()` before it sends any response.
 */
export const FS_MODULE = "__smcp/fs.js";
export const FS_PROMISES_MODULE = "__smcp/fs-promises.js";
export { FS_PROMISES_SOURCE, FS_SOURCE } from "./fs-shim.generated";
export { SandboxFiles, type FilesProps } from "./entrypoint";
