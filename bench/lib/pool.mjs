/**
 * Bounded concurrency for setup work (opening sessions, holding streams): the
 * machine has two cores, so the bench never fires a thousand requests at once
 * when what it measures is the server, not the client's burst.
 */

/** Runs `task(i)` for i in 0..n-1 with at most `limit` in flight; resolves to their results in order. */
export async function pool(n, limit, task) {
  const results = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return results;
}
