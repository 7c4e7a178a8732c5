// The Worker's bindings, as `env` from `cloudflare:workers` / `cloudflare:test` sees them.
declare namespace Cloudflare {
  interface Env extends import("../src/env").Env {}
}
