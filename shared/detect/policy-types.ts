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
}

/** What applies to one run after the first matching override is laid over the defaults. */
export interface EffectivePolicy {
  owner: string;
  severity: Severity;
  thresholds: Thresholds;
  escalateCancelled: boolean;
}

export interface PolicySet {
  defaults: EffectivePolicy;
  /** Ordered: the first match wins. */
  overrides: PolicyOverride[];
}
