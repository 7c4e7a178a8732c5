// The Worker's bindings, as `env` from `cloudflare:test` (and `cloudflare:workers`) sees them.
type SmcpWorkerEnv = import("../src/env").Env;
declare namespace Cloudflare {
  interface Env extends SmcpWorkerEnv {}
}
