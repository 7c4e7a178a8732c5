/**
 * The switch `pnpm bench` turns off to measure what recording metrics costs (its
 * metrics-overhead row compares CPU per call with it on and off). On in every
 * deployment: only the bench's own Worker config sets `SMCP_METRICS_RECORDING=off`,
 * which the routing Worker and the session object read through `setMetricsSwitch`
 * (a module variable: every object of one isolate runs with the same env).
 */
import { platformConfig } from "@smcp/runtime";

let enabled = true;

export const metricsEnabled = (): boolean => enabled;

/** Set from the Worker's settings (index.ts per request, session-do.ts per object). */
export function setMetricsSwitch(env: object): void {
  enabled = platformConfig(env).SMCP_METRICS_RECORDING !== "off";
}
