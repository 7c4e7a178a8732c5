/**
 * A deployed SDK server's console output, as the platform keeps it: each line has the
 * server's secrets redacted, goes to the platform log, and the newest lines reach the
 * tenant's admin view in batches, at most one tenant call per `STATS_FLUSH_MS` per
 * instance (never a write per line). The buffer is bounded; under a flood the oldest
 * unsent lines go.
 */
import { tenantStub, type Env } from "../../env";
import { logEvent } from "../../log";
import type { ConsoleLine } from "../deployment-store";
import { SANDBOX_LIMITS, STATS_FLUSH_MS } from "../limits";
import type { SdkServing } from "./serving";

export class ConsoleKeeper {
  #lines: ConsoleLine[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly env: Env,
    private readonly sdk: SdkServing,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  keep(level: string, line: string): void {
    const { tenant, server, version } = this.sdk;
    this.waitUntil(
      this.sdk.redact(line).then((redacted) => {
        logEvent(level === "error" ? "warn" : "info", "tenant console", { tenant, server, version, level, line: redacted });
        this.#lines.push({ version, at: Date.now(), level, line: redacted });
        if (this.#lines.length > SANDBOX_LIMITS.keptConsoleLines) this.#lines.splice(0, this.#lines.length - SANDBOX_LIMITS.keptConsoleLines);
        this.#timer ??= setTimeout(() => this.waitUntil(this.#flush()), STATS_FLUSH_MS);
      }),
    );
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const lines = this.#lines.splice(0);
    if (lines.length === 0) return;
    const { tenant, incarnation, server } = this.sdk;
    await tenantStub(this.env, tenant)
      .deploymentConsole(server, lines, incarnation)
      .catch((err) => logEvent("warn", "console lines not kept", { tenant, server, error: String(err) }));
  }
}
