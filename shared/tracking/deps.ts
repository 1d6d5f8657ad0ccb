import type { EscalationPublisher } from "../bus/publisher.js";
import type { PolicySet } from "../detect/policy-types.js";
import type { RunSource } from "../foundry/run-source.js";
import type { Instant } from "../model/run.js";
import type { OutboxItem, RunHead, RunStore, Transition } from "../store/types.js";
import type { Clock } from "./clock.js";
import type { RateLimiter } from "./rate-limiter.js";

export type DegradedReason = "foundry-5xx" | "foundry-429" | "foundry-timeout" | "foundry-malformed" | "foundry-network" | "bus-unavailable" | "store-conflict";

/** What the tracking core tells the outside world; simulate writes it as JSON Lines, Azure sends it to telemetry and logs. */
export interface MonitorEvents {
  registered(head: RunHead, at: Instant): void;
  transition(t: Transition, head: RunHead): void;
  published(item: OutboxItem, at: Instant): void;
  degraded(reason: DegradedReason, detail: string, at: Instant): void;
}

export const silentEvents: MonitorEvents = { registered() {}, transition() {}, published() {}, degraded() {} };

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
}
