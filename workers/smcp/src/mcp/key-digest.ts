/**
 * The digest of a tenant key as the MCP endpoint computes it on every authenticated
 * request: the same SHA-256 hex as `sha256Hex` (the stored key hashes), from the
 * runtime's native hash, synchronously. Web Crypto's `digest` is async: each call costs
 * a promise, a copy of the input and a turn of the event loop, a visible share of a
 * `tools/call`'s CPU (bench/profile.mjs), for a one-block hash.
 */
import { createHash } from "node:crypto";

export function keyDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
