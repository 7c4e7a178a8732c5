// `node:async_hooks` as workerd provides it (nodejs_compat), the one part SMCP uses:
// the Worker's types are workerd's, so Node's own declarations are not loaded.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, work: () => R): R;
    getStore(): T | undefined;
  }
}
