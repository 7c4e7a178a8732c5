/**
 * Where a command's answer goes. `result(data, render)` prints the API's JSON as is
 * under `--json` and `render(data)` otherwise, so each command writes its human
 * rendering once and scripts still get exactly what the admin API said. Progress
 * and remarks go to stderr (`note`), keeping stdout clean for pipes.
 */

/**
 * @typedef {{ write(text: string): unknown }} Stream
 * @typedef {ReturnType<typeof createOutput>} Output
 */

/** @param {{ stdout: Stream, stderr: Stream, json: boolean }} options */
export function createOutput({ stdout, stderr, json }) {
  return {
    json,
    /**
     * @template T
     * @param {T} data
     * @param {(data: T) => string} render
     */
    result(data, render) {
      const text = json ? JSON.stringify(data, null, 2) : render(data);
      if (text) stdout.write(`${text}\n`);
    },
    /** @param {string} text one line of stdout */
    line(text) {
      stdout.write(`${text}\n`);
    },
    /** @param {string} text one line of stderr */
    note(text) {
      stderr.write(`${text}\n`);
    },
  };
}
