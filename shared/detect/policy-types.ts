import type { Api, Severity } from "../model/run.js";

/** Stall thresholds in seconds (see ../shared/contracts/scenario.md, "Detection rules"). */
export interface Thresholds {
  queuedSeconds: number;
  inProgressSeconds: number;
  requiresActionSeconds: number;
  cancellingSeconds: number;
  maxRuntimeSeconds: number;
}

export interface PolicyMatch {
  project?: string;
  agentId?: string;
  threadId?: string;
  api?: Api;
  /** Every listed tag must be equal on the run. */
  tags?: Record<string, string>;
}

export interface PolicyOverride {
  match: PolicyMatch;
  owner?: string;
  severity?: Severity;
  thresholds?: Partial<Thresholds>;
  escalateCancelled?: boolean;
  /** Insights and remediation settings (optional, off by default): see docs/insights.md. */
  insights?: InsightsPolicy;
}

/** Optional, per policy: which tools touch the outside world, failure-rate target, opt-in remediation. */
export interface InsightsPolicy {
  /** Tools that change a downstream system: a failed/expired/cancelled run after one completed is flagged `partialSideEffects`. */
  sideEffectTools?: string[];
  /** Tools safe to repeat: a failed run is retried only when every tool it called is listed here. */
  readOnlyTools?: string[];
  /** Severity of an escalation flagged `partialSideEffects` (default: one step above the policy's severity). */
  partialSideEffectSeverity?: Severity;
  /** Target failure rate per day, 0..1 (0.02 = "failed runs ≤ 2 %"). */
  failureRateTarget?: number;
  /** Opt-in write actions on Foundry. Absent or false: the monitor never writes to Foundry. */
  remediation?: RemediationPolicy;
}

export interface RemediationPolicy {
  /** Cancel a run when it escalates as stalled in requires_action or queued (the stall threshold is the limit). */
  cancelStuck?: boolean;
  /** Create a new run on the thread of a failed run whose tools are all read-only. */
  retryFailed?: boolean;
  /** Retries per original run (default 1, at most 5). */
  maxRetries?: number;
}

/** Estimated cost per 1,000 tokens, by model deployment name. */
export interface ModelPrice {
  inputPer1K: number;
  outputPer1K: number;
}

/** What applies to one run after the first matching override is laid over the defaults. */
export interface EffectivePolicy {
  owner: string;
  severity: Severity;
  thresholds: Thresholds;
  escalateCancelled: boolean;
  /** Absent: no side-effect flagging, no target, no remediation. */
  insights?: InsightsPolicy;
}

export interface PolicySet {
  defaults: EffectivePolicy;
  /** Ordered: the first match wins. */
  overrides: PolicyOverride[];
  /** Optional price table turning token usage into an estimated cost. */
  prices?: Record<string, ModelPrice>;
}
