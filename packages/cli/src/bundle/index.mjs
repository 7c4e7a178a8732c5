/**
 * The bundler behind `smcp deploy`: resolve what was given, bundle it for workerd with the
 * documented substitutions, collect the package files, build the deploy body.
 */
export { deployBody, MAX_BODY_BYTES, mib } from "./body.mjs";
export { bundleServer } from "./bundle.mjs";
export { packageFiles } from "./package-files.mjs";
export { resolveSource } from "./source.mjs";
