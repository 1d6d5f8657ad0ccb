// A scenario as a list of numbered steps (register one run, sweep every shard, publish), so a
// monitor process that is killed and restarted can resume at the step it was in — at the same
// virtual time — and redo it. Every step is idempotent: a registration that already happened
// answers "exists", a sweep over runs already written at this time changes nothing.
import type { EscalationPublisher } from "../../shared/bus/publisher.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import type { Instant } from "../../shared/model/run.js";
import { sanitize } from "../../shared/sanitize/index.js";
import type { RunStore } from "../../shared/store/types.js";
import type { VirtualClock } from "../../shared/tracking/clock.js";
import { silentEvents, type MonitorEvents, type TrackerDeps } from "../../shared/tracking/deps.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { publishOutbox } from "../../shared/tracking/publish.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { registerRun } from "../../shared/tracking/register.js";
import type { Scenario, ScenarioRun } from "../scenario/schema.js";
import { policiesOf, type ScenarioForEngine } from "../simulate/engine.js";

export type ChaosStep =
  | { at: Instant; kind: "register"; run: ScenarioRun }
  | { at: Instant; kind: "sweep" }
  | { at: Instant; kind: "publish" };

/** The engine's order (local/simulate/engine.ts): registrations due by a sweep's time go first, then the sweep; a last publish. */
export function scheduleOf(scenario: Scenario): ChaosStep[] {
  const start = Date.parse(scenario.start);
  const end = start + scenario.duration * 1000;
  const interval = scenario.monitor.pollIntervalSeconds * 1000;
  const registrations = [...scenario.runs].sort((a, b) => a.registerAt - b.registerAt);
  const out: ChaosStep[] = [];
  let r = 0;
  for (let sweep = start; sweep <= end; sweep += interval) {
    while (r < registrations.length && start + registrations[r].registerAt * 1000 <= sweep) {
      out.push({ at: start + registrations[r].registerAt * 1000, kind: "register", run: registrations[r++] });
    }
    out.push({ at: sweep, kind: "sweep" });
  }
  out.push({ at: end, kind: "publish" });
  return out;
}

export interface ChaosParts {
  store: RunStore;
  source: RunSource;
  publisher: EscalationPublisher;
  clock: VirtualClock;
  events?: MonitorEvents;
  /** Foundry reads in flight per shard (default 4: several commits in flight when a kill lands). */
  concurrency?: number;
}

export function chaosTrackerDeps(scenario: Scenario, parts: ChaosParts): TrackerDeps {
  return {
    store: parts.store,
    source: parts.source,
    publisher: parts.publisher,
    policies: policiesOf(scenario as unknown as ScenarioForEngine),
    clock: parts.clock,
    limiter: new RateLimiter(scenario.foundry.rateLimitPerSecond ?? 1_000_000, parts.clock),
    events: parts.events ?? silentEvents,
    settings: {
      pollIntervalSeconds: scenario.monitor.pollIntervalSeconds,
      shardCount: 4,
      concurrency: parts.concurrency ?? 4,
      maxActiveRunsPerProject: 1_000_000,
      projects: [...new Set(scenario.runs.map((r) => r.project))],
      pollAttempts: 4,
    },
    sanitize,
  };
}

/** Runs one step at its own virtual time (a step redone after a crash starts at the same instant). */
export async function runStep(deps: TrackerDeps, clock: VirtualClock, step: ChaosStep): Promise<void> {
  clock.advanceTo(step.at);
  if (step.kind === "register") {
    const run = step.run;
    const result = await registerRun(deps, { project: run.project, api: run.api, runId: run.runId, threadId: run.threadId || undefined, agentId: run.agentId, session: run.session, tags: run.tags });
    if (result.kind !== "registered" && result.kind !== "exists") throw new Error(`registration of ${run.runId} was rejected: ${result.kind} ${result.problems.join("; ")}`);
    return;
  }
  if (step.kind === "sweep") {
    for (const shard of await deps.store.nonEmptyShards()) await pollShard(deps, shard);
  }
  await publishOutbox(deps);
}
