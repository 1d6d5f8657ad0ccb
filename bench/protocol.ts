// What the benchmark's parent (which serves Foundry) and a worker (the monitor or the naive
// baseline, each alone in its process so its peak RSS is its own) say to each other over IPC.

import type { DetectionSummary } from "./detection.js";
import type { MethodTallies } from "./store-ledger.js";
import type { BenchPlan } from "./scenario.js";
import type { CpuFigures } from "./worker-support.js";

export type Mode = "monitor" | "naive";
export type StoreKind = "memory" | "table";

/** The monitor's deployment knobs, as the Functions app would have them. */
export interface TrackingKnobs {
  /** SHARD_COUNT */
  shardCount: number;
  /** POLL_CONCURRENCY: reads in flight per poll-shard invocation. */
  concurrency: number;
  /** poll-shard invocations the host runs at once (host.json queues: batchSize + newBatchThreshold). */
  parallelShards: number;
  /** FOUNDRY_RATE_LIMIT_PER_SECOND */
  limiterPerSecond: number;
}

export interface BenchJob {
  mode: Mode;
  store: StoreKind;
  plan: BenchPlan;
  knobs: TrackingKnobs;
  /** API searches by thread ID to time after the sweeps (0: none). */
  searchQueries: number;
  /** --max-old-space-size of the worker, if set. */
  heapCapMb?: number;
}

/**
 * `startMs`: the scenario's second 0 (Foundry's clock origin). The worker registers its runs first,
 * then the parent fixes when the measured sweeps start (`measureFromSeconds`), puts the known events
 * after it and starts the simulator — so a slow registration can never eat into the measurement.
 */
export type ParentMessage = { type: "go"; startMs: number; measureFromSeconds: number; endpoint: string; caPem: string; control: string };

export type WorkerMessage =
  | { type: "registered"; startMs: number }
  | { type: "progress"; phase: string; done: number; total: number }
  | { type: "result"; result: JobResult }
  | { type: "failed"; message: string };

export interface SweepRecord {
  /** Scenario second the sweep started. */
  at: number;
  durationMs: number;
  /** Runs whose read succeeded (changed or not). */
  read: number;
  unchanged: number;
  written: number;
  unread: number;
  /** Read attempts, retries included. */
  attempts: number;
}

export interface SearchFigures {
  storedRuns: number;
  queries: number;
  p50Ms: number;
  p99Ms: number;
  /** Table requests one search costs (counted at the store boundary). */
  requestsPerSearch: number;
}

export interface JobResult {
  mode: Mode;
  store: StoreKind;
  runs: number;
  plan: BenchPlan;
  knobs: TrackingKnobs;
  /** The sweeps (monitor) or poll intervals (naive) measured. */
  sweeps: SweepRecord[];
  /** Runs read per second of sweeping. */
  pollsPerSecond: number;
  foundry: {
    /** Requests the simulator counted in the measured window (429s included). */
    calls: number;
    callsPerRunPerSweep: number;
    rateLimited: number;
    byKind: Record<string, number>;
  };
  table: {
    /** Requests not caused by a change (index queries, timer publishes) per unchanged run per sweep. */
    txPerUnchangedRunPerSweep: number;
    writesPerUnchangedRunPerSweep: number;
    /** Requests caused by changes, per changed run. */
    txPerChangedRun: number;
    unchangedPolls: number;
    changedPolls: number;
    byMethod: MethodTallies;
  };
  detection: DetectionSummary;
  search?: SearchFigures;
  peakRssMb: number;
  /** CPU of the worker over the measured sweeps (monitor) or intervals (naive). */
  cpu: CpuFigures;
  /** Seconds spent registering runs before the first sweep. */
  registrationSeconds: number;
  degraded: Record<string, number>;
  notes: string[];
}
