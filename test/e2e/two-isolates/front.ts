/**
 * The front of the two-isolate test (test/e2e/cross-isolate.test.ts): `wrangler dev`
 * serves only its first Worker on the port, so this one is first and hands each request
 * to one of the two SMCP Workers behind it, which share their Durable Objects. A path
 * under `/isolate-b` goes to the second (the prefix is cut off), everything else to the
 * first.
 */
interface Env {
  A: Fetcher;
  B: Fetcher;
}

const B_PREFIX = "/isolate-b";

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== B_PREFIX && !url.pathname.startsWith(`${B_PREFIX}/`)) return env.A.fetch(request);
    url.pathname = url.pathname.slice(B_PREFIX.length) || "/";
    return env.B.fetch(new Request(url, request));
  },
};
