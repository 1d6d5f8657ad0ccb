import type { EscalationPublisher } from "../bus/publisher.js";
import type { Decision } from "../detect/detect.js";
import type { PolicySet } from "../detect/policy-types.js";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant, PollOutcome, RunRef, RunStatus } from "../model/run.js";
import type { OutboxItem, RunHead, RunStore, Transition } from "../store/types.js";
import type { Clock } from "./clock.js";
import type { RateLimiter } from "./rate-limiter.js";

export type DegradedReason = "foundry-5xx" | "foundry-429" | "foundry-timeout" | "foundry-malformed" | "foundry-network" | "bus-unavailable" | "store-conflict";

/** What the tracking core tells the outside world; simulate writes it as JSON Lines, Azure sends it to telemetry and logs. */
export interface MonitorEvents {
  registered(head: RunHead, at: Instant): void;
  transition(t: Transition, head: RunHead): void;
  published(item: OutboxItem, at: Instant): void;
  /** `projects`: the projects whose runs were affected, when known (telemetry splits the signal by project). */
  degraded(reason: DegradedReason, detail: string, at: Instant, projects?: string[]): void;
}

export const silentEvents: MonitorEvents = { registered() {}, transition() {}, published() {}, degraded() {} };

/** Active runs of one project in one status (a gauge reported after each shard pass). */
export interface ActiveRunCount {
  project: string;
  status: RunStatus | "unknown";
  count: number;
}

/**
 * What the core measures, without knowing where it goes (shared/telemetry sends it to Application
 * Insights; tests and simulate leave it out). Every call is fire-and-forget and must not throw.
 */
export interface Metrics {
  /** One Foundry read finished; `latencyMs` is wall time even under a virtual clock. */
  pollRead(ref: RunRef, outcome: PollOutcome, latencyMs: number): void;
  /** The outbox as the publisher found it: rows waiting, and the age of the oldest (0 when empty). */
  outbox(depth: number, oldestAgeSeconds: number): void;
  /** Active runs after a shard pass (`shard` undefined: the whole monitor, e.g. a sweep that found nothing). */
  activeRuns(shard: number | undefined, counts: ActiveRunCount[]): void;
  /** A W3C traceparent for the operation a poll starts: its escalations carry it to the ticket handler. Undefined: none. */
  traceparent(): string | undefined;
  /** One finished tool call, reported once when insights count it (shared/insights/hook.ts). */
  toolCall?(call: ToolCallMeasure): void;
}

export interface ToolCallMeasure {
  project: string;
  agentId: string;
  tool: string;
  /** The step's final status: completed, failed, cancelled, expired. */
  status: string;
  durationMs: number;
}

export const noMetrics: Metrics = { pollRead() {}, outbox() {}, activeRuns() {}, traceparent: () => undefined };

export interface TrackingSettings {
  pollIntervalSeconds: number;
  shardCount: number;
  /** Foundry reads in flight per shard. */
  concurrency: number;
  maxActiveRunsPerProject: number;
  /** Configured project names; registrations for others are rejected. */
  projects: string[];
  /** Poll attempts per run within one shard pass before it waits for the next sweep. */
  pollAttempts: number;
}

export interface TrackerDeps {
  store: RunStore;
  source: RunSource;
  publisher: EscalationPublisher;
  policies: PolicySet;
  clock: Clock;
  limiter: RateLimiter;
  events: MonitorEvents;
  settings: TrackingSettings;
  /** Applied to run content (error messages) before it is stored or leaves the process. */
  sanitize: (text: string) => string;
  /** Optional measurements (poll latency, errors, outbox, active runs) and trace context; default none. */
  metrics?: Metrics;
  /**
   * Optional: told about every decision after it was committed (insights, opt-in remediation:
   * shared/insights/hook.ts). Awaited; a hook that throws never fails the poll.
   */
  onCommitted?: (decision: Decision, head: RunHead) => Promise<void>;
  /**
   * Optional: carries out the opt-in remediation an escalation's outbox row names, before the row
   * is published (shared/remediation/outbox.ts). Returns the row with the outcome for the message,
   * or undefined while the action is in another executor's hands: the row then stays pending and a
   * later publish pass (the publish-outbox timer) tries again. Absent: rows go out as they are.
   */
  remediate?: (item: OutboxItem) => Promise<OutboxItem | undefined>;
}

/** Calls `deps.onCommitted` if set; its failure is the hook's business, never the poll's. */
export async function notifyCommitted(deps: TrackerDeps, decision: Decision): Promise<void> {
  if (!deps.onCommitted) return;
  try {
    await deps.onCommitted(decision, decision.head);
  } catch {
    // the hook reports its own trouble; the commit already happened
  }
}
