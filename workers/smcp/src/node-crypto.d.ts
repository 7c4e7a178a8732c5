// `node:crypto` as workerd provides it (nodejs_compat), the one part SMCP uses (mcp/key-digest.ts):
// the Worker's types are workerd's, so Node's own declarations are not loaded.
declare module "node:crypto" {
  interface Hash {
    update(data: string, encoding: "utf8"): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
