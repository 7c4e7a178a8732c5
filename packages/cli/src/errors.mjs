/**
 * The CLI's two error families, and nothing else: a CliError is a failure the user
 * can act on (exit 1, its message printed as is), a UsageError is a command line the
 * CLI could not understand (exit 2, printed with the command's usage line). main()
 * is the only place that turns them into output; code elsewhere throws, never prints.
 */

export class CliError extends Error {
  exitCode = 1;
}

/** An error answer of the admin API: `{"error":{"code","message"}}` with its HTTP status. */
export class ApiError extends CliError {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class UsageError extends Error {
  exitCode = 2;
  /**
   * @param {string} message what was wrong with the command line
   * @param {string[]} usage the usage lines to print after it
   */
  constructor(message, usage) {
    super(message);
    this.usage = usage;
  }
}
