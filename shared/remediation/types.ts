import type { Instant, RunRef } from "../model/run.js";

export type RemediationAction = "cancel" | "retry";

/** What the pure decision asks for. `key` is the ledger row: one per (original run, action, attempt). */
export interface RemediationPlan {
  action: RemediationAction;
  ref: RunRef;
  /** The run the lineage started from (a retry of a retry keeps the first run's ID). */
  rootRunId: string;
  /** 1-based retry attempt (cancel: 1). */
  attempt: number;
  /** The agent to run again (retry). */
  agentId?: string;
  /** Why: the escalation reason that triggered it. */
  because: string;
}

export type RemediationState = "started" | "done" | "refused" | "failed";

/** One ledger row, written before the Foundry call and completed after it: the run's remediation timeline. */
export interface RemediationRecord {
  project: string;
  /** The run acted on. */
  runId: string;
  threadId: string;
  rootRunId: string;
  action: RemediationAction;
  attempt: number;
  because: string;
  state: RemediationState;
  startedAt: Instant;
  finishedAt?: Instant;
  /** Retry: the run Foundry created. */
  newRunId?: string;
  /** Refused/failed: HTTP status and error code (never the message body). */
  detail?: string;
}
