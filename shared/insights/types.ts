// Daily insight buckets: what the monitor already sees (transitions, escalations, steps, usage),
// folded into one row per day and dimension. Each bucket remembers which contributions it counted
// (a marker per run+step or run+outcome), so seeing the same step or transition twice changes nothing.

/** UTC calendar day, `YYYY-MM-DD`. */
export type Day = string;

export type BucketKind = "tools" | "trends" | "usage";

export interface SlowCall {
  runId: string;
  stepId: string;
  durationMs: number;
  status: string;
}

/** Tool calls of one tool of one agent on one day. */
export interface ToolBucket {
  kind: "tools";
  day: Day;
  project: string;
  agentId: string;
  tool: string;
  calls: number;
  failed: number;
  totalMs: number;
  /** Counts per DURATION_BOUNDS_MS bucket (the last is "above the last bound"). */
  histogram: number[];
  /** Every duration while there are at most EXACT_DURATIONS_KEPT, for exact percentiles; dropped beyond. */
  durations?: number[];
  /** The slowest calls, slowest first (at most SLOWEST_KEPT). */
  slowest: SlowCall[];
}

/** Run outcomes of one agent in one project on one day. */
export interface TrendBucket {
  kind: "trends";
  day: Day;
  project: string;
  agentId: string;
  /** Runs that ended (terminal or vanished) that day. */
  runs: number;
  completed: number;
  failed: number;
  expired: number;
  cancelled: number;
  incomplete: number;
  vanished: number;
  /** Runs that escalated as stalled (any stall reason or max-runtime) that day, once per run. */
  stalled: number;
}

/** Token usage of one agent and model on one day (counted once per run, when it ends). */
export interface UsageBucket {
  kind: "usage";
  day: Day;
  project: string;
  agentId: string;
  model: string;
  runs: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type Bucket = ToolBucket | TrendBucket | UsageBucket;

export type ToolDelta = { kind: "tools"; durationMs: number; failed: boolean; call: SlowCall };
export type TrendDelta = { kind: "trends"; outcome: "completed" | "failed" | "expired" | "cancelled" | "incomplete" | "vanished" | "stalled" };
export type UsageDelta = { kind: "usage"; promptTokens: number; completionTokens: number; totalTokens: number };

/** One thing to count once: the bucket it lands in, its dedup marker, and what it adds. */
export interface Contribution {
  /** Stable bucket identity (kind, day, dimensions). */
  bucketId: string;
  /** Unique within the bucket: `${runId}:${stepId}:${callId}`, `${runId}:end`, `${runId}:stalled`, `${runId}:usage`. */
  marker: string;
  /** The empty bucket this contribution starts when the bucket does not exist yet. */
  empty: Bucket;
  delta: ToolDelta | TrendDelta | UsageDelta;
}
