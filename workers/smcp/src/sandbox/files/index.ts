// PLACEHOLDER until the files branch lands.
export const FS_MODULE = "__smcp/fs.js";
export const FS_PROMISES_MODULE = "__smcp/fs-promises.js";
export const FS_SOURCE = `export * as promises from "node:fs/promises"; export * from "node:fs"; import * as fs from "node:fs"; export default fs; export async function __init() {} export async function __flush() {}`;
export const FS_PROMISES_SOURCE = `export * from "node:fs/promises"; import * as p from "node:fs/promises"; export default p;`;
