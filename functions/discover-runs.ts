import { app, type InvocationContext, type Timer } from "@azure/functions";
import { services } from "../shared/services.js";
import { discoverRuns, discoverySettingsOf, type ProjectDiscovery } from "../shared/tracking/discover.js";

export async function discoverRunsHandler(_timer: Timer, context: InvocationContext): Promise<ProjectDiscovery[]> {
  const s = await services();
  const results = await discoverRuns(s.tracker, s.settings.FOUNDRY_PROJECTS, s.discovery, discoverySettingsOf(s.settings));
  if (results.length === 0) context.log("discover-runs: no project has discovery on (FOUNDRY_PROJECTS[].discovery)");
  for (const r of results) {
    const line = `discover-runs ${r.project}: ${r.listCalls} list calls, ${r.threads} threads, ${r.activeRuns} active runs, ${r.registered.length} registered, ${r.alreadyKnown} already known, ${r.notRegistered} not registered`;
    if (r.trouble) context.warn(`${line}; ${r.trouble}`);
    else context.log(line);
  }
  return results;
}

// Every 5 minutes by default (DISCOVERY_SCHEDULE); with no project opted in a tick costs nothing but the wake-up.
app.timer("discover-runs", { schedule: "%DISCOVERY_SCHEDULE%", handler: discoverRunsHandler });
