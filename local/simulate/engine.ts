import { DEFAULT_POLICY } from "../../shared/detect/policy.js";
import type { PolicySet, Thresholds } from "../../shared/detect/policy-types.js";
import type { Api, Instant, Severity } from "../../shared/model/run.js";
import type { RunStore } from "../../shared/store/types.js";
import type { EscalationPublisher } from "../../shared/bus/publisher.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import type { TrackerDeps } from "../../shared/tracking/deps.js";
import type { EventLog } from "./events.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { publishOutbox } from "../../shared/tracking/publish.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { registerRun } from "../../shared/tracking/register.js";
import { sanitize } from "../../shared/sanitize/index.js";

/** The parts of a scenario the engine reads (the full schema lives in local/scenario). */
export interface ScenarioForEngine {
  name: string;
  start: string;
  duration: number;
  monitor: { pollIntervalSeconds: number; thresholds: Partial<Thresholds>; escalateCancelled?: boolean };
  policies?: { match: { project?: string; agentId?: string; threadId?: string; api?: Api; tags?: Record<string, string> }; owner?: string; severity?: Severity; thresholds?: Partial<Thresholds>; escalateCancelled?: boolean }[];
  foundry?: { rateLimitPerSecond?: number };
  runs: { api: Api; runId: string; threadId?: string; agentId?: string; session?: string; tags?: Record<string, string>; registerAt: number; project?: string }[];
}

export function policiesOf(s: ScenarioForEngine): PolicySet {
  return {
    defaults: {
      ...DEFAULT_POLICY,
      thresholds: { ...DEFAULT_POLICY.thresholds, ...s.monitor.thresholds },
      escalateCancelled: s.monitor.escalateCancelled ?? false,
    },
    overrides: (s.policies ?? []).map((p) => ({ ...p })),
  };
}

export interface EngineParts {
  store: RunStore;
  source: RunSource;
  publisher: EscalationPublisher;
  events: EventLog;
  clock: VirtualClock;
  /** Called after each sweep and registration batch, e.g. to run the ticket handler on what was published. */
  afterStep?: (now: Instant) => Promise<void>;
  onProgress?: (doneSeconds: number, totalSeconds: number) => void;
}

export const projectOf = (run: { project?: string }): string => run.project ?? "default";

/**
 * Runs the monitor over a scenario on a virtual clock: registrations at their `registerAt`, a
 * sweep every poll interval (every shard polled, outbox published after each shard), the same
 * core functions the Functions handlers call. One Foundry read at a time, so virtual time moves
 * only by the rate limiter and retry backoff.
 */
export async function runScenario(scenario: ScenarioForEngine, parts: EngineParts): Promise<void> {
  const start = Date.parse(scenario.start);
  const end = start + scenario.duration * 1000;
  const interval = scenario.monitor.pollIntervalSeconds * 1000;
  const projects = [...new Set(scenario.runs.map(projectOf))];
  const deps: TrackerDeps = {
    store: parts.store,
    source: parts.source,
    publisher: parts.publisher,
    policies: policiesOf(scenario),
    clock: parts.clock,
    limiter: new RateLimiter(scenario.foundry?.rateLimitPerSecond ?? 1_000_000, parts.clock),
    events: parts.events,
    settings: { pollIntervalSeconds: scenario.monitor.pollIntervalSeconds, shardCount: 8, concurrency: 1, maxActiveRunsPerProject: 1_000_000, projects, pollAttempts: 4 },
    sanitize,
  };
  await parts.store.init();
  const registrations = [...scenario.runs].sort((a, b) => a.registerAt - b.registerAt);
  let r = 0;
  let nextSweep = start;
  while (nextSweep <= end || r < registrations.length) {
    const nextRegistration = r < registrations.length ? start + registrations[r].registerAt * 1000 : Infinity;
    if (Math.min(nextRegistration, nextSweep) > end) break;
    if (nextRegistration <= nextSweep) {
      parts.clock.advanceTo(nextRegistration);
      const run = registrations[r++];
      const result = await registerRun(deps, {
        project: projectOf(run), api: run.api, runId: run.runId, threadId: run.threadId, agentId: run.agentId, session: run.session, tags: run.tags,
      });
      if (result.kind !== "registered" && result.kind !== "exists") {
        parts.events.add(parts.clock.now(), { type: "registration-rejected", runId: run.runId, reason: result.kind, detail: result.problems.join("; ") });
      }
    } else {
      parts.clock.advanceTo(nextSweep);
      for (const shard of await parts.store.nonEmptyShards()) await pollShard(deps, shard);
      await publishOutbox(deps);
      nextSweep += interval;
      parts.onProgress?.(Math.min(scenario.duration, (parts.clock.now() - start) / 1000), scenario.duration);
    }
    await parts.afterStep?.(parts.clock.now());
  }
  await publishOutbox(deps);
  await parts.afterStep?.(parts.clock.now());
}
