/**
 * The dashboard's browser script: the chart helpers (a global of their own), then one
 * function scope holding the shared core, each page's fragment and the start-up. The
 * page inlines it and its CSP allows exactly this text by hash (handler.ts).
 */
import { CHART_SCRIPT } from "../chart";
import { AUDIT } from "./audit";
import { CORE } from "./core";
import { GRANTS } from "./grants";
import { KEYS } from "./keys";
import { SERVERS } from "./servers";
import { SESSIONS } from "./sessions";
import { SHELL, START } from "./shell";
import { TASKS } from "./tasks";

export const CLIENT_SCRIPT = [CHART_SCRIPT, '"use strict";\n(function () {', CORE, SHELL, SERVERS, SESSIONS, KEYS, GRANTS, TASKS, AUDIT, START, "})();\n"].join("\n");
