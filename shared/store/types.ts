import type { Api, EscalationReason, Instant, RunError, RunRef, RunStatus, Severity, StepSummary, Usage } from "../model/run.js";

export interface EpisodeState {
  /** Episode number of the latest episode of this reason (1-based). */
  episode: number;
  /** True while the run is still in the state that started the episode. */
  active: boolean;
  /** When the rule became true (for detection latency). */
  since?: Instant;
}

/** The monitor's current knowledge of one run: the run partition's head row. */
export interface RunHead {
  ref: RunRef;
  agentId?: string;
  agentName?: string;
  agentVersion?: string;
  session?: string;
  tags: Record<string, string>;
  registeredAt: Instant;
  /** Undefined until the first successful observation. */
  status?: RunStatus;
  /** Monitor time of the first poll that saw the current status. */
  statusSince?: Instant;
  /** Start of the stalled-queued clock (created_at for a never-started run, else first poll seeing it queued again). */
  queuedSince?: Instant;
  /** Latest progress time: max(started, step events, first poll that saw the progress marker change). */
  progressAt?: Instant;
  progressMarker?: string;
  createdAt?: Instant;
  startedAt?: Instant;
  completedAt?: Instant;
  failedAt?: Instant;
  cancelledAt?: Instant;
  expiresAt?: Instant;
  model?: string;
  usage?: Usage;
  /** Code verbatim, message already sanitized. */
  lastError?: RunError;
  incompleteDetails?: { reason: string };
  pendingToolCalls?: { id: string; type: string; name?: string }[];
  steps?: StepSummary[];
  finalMessageId?: string;
  episodes: Partial<Record<EscalationReason, EpisodeState>>;
  /** Number of transitions written so far; transition rows are keyed by this sequence. */
  seq: number;
  /** Terminal or vanished: leaves the active index once its outbox is drained. */
  terminal: boolean;
  vanished?: boolean;
  /** messageIds of outbox rows written but not yet published. */
  pendingOutbox: string[];
  shard: number;
  updatedAt: Instant;
}

export interface StoredHead {
  head: RunHead;
  etag: string;
}

export interface Transition {
  project: string;
  runId: string;
  seq: number;
  at: Instant;
  /** null for the first status the monitor saw. */
  from: RunStatus | null;
  to: RunStatus;
}

export type OutboxKind = "escalation" | "recovered";

/** One message waiting to be published to the escalation topic. */
export interface OutboxItem {
  /** `${runId}:${reason}:${episode}` for escalations, `${runId}:${reason}:${episode}:recovered` for recoveries. */
  messageId: string;
  kind: OutboxKind;
  ref: RunRef;
  agentId?: string;
  reason: EscalationReason;
  episode: number;
  severity: Severity;
  owner: string;
  /** Monitor time of the poll that decided it. */
  at: Instant;
  /** When the rule became true (≤ at), for detection latency. */
  ruleTrueAt?: Instant;
  /** W3C traceparent of the poll that decided it. */
  traceparent?: string;
  status: "pending" | "sent";
  /** The run failed, expired or was cancelled after a side-effecting tool call (policy `insights.sideEffectTools`) completed. */
  partialSideEffects?: boolean;
  /** Those completed side-effecting calls: name, time, status — never arguments or outputs. */
  sideEffectCalls?: SideEffectCall[];
  /**
   * Opt-in remediation this escalation calls for (policy `insights.remediation`). Stored as the plan;
   * the publisher carries it out before sending and the message carries the outcome (shared/remediation).
   */
  remediation?: OutboxRemediation;
}

export interface OutboxRemediation {
  action: "cancel" | "retry";
  /** The run the retry lineage started from (cancel: the run itself). */
  rootRunId: string;
  /** 1-based retry attempt (cancel: 1). */
  attempt: number;
  /** The agent a retry runs again. */
  agentId?: string;
  /** Outcome, once the action ran: done, refused (Foundry said no) or failed (transient). */
  state?: "done" | "refused" | "failed";
  /** When the action finished (monitor time). */
  at?: Instant;
  /** Retry: the run Foundry created. */
  newRunId?: string;
  /** Refused/failed: HTTP status and error code, never a message body. */
  detail?: string;
}

export interface SideEffectCall {
  name: string;
  /** When the call's step completed (Foundry time), when known. */
  at?: Instant;
  status: string;
  stepId: string;
}

/** A change to one run, written as one entity-group transaction in the run's partition. */
export interface RunChange {
  /** ETag of the head this change was computed from. */
  expectedEtag: string;
  head: RunHead;
  transitions: Transition[];
  outbox: OutboxItem[];
}

export type CommitResult = { ok: true; etag: string } | { ok: false; reason: "conflict" };

export interface RunQuery {
  project?: string;
  runId?: string;
  threadId?: string;
  session?: string;
  agentId?: string;
  owner?: string;
  status?: RunStatus;
  reason?: EscalationReason;
  api?: Api;
  from?: Instant;
  to?: Instant;
  limit?: number;
  continuationToken?: string;
}

/** Counted at the store boundary: what the benchmark and the "unchanged runs cost no write" tests read. */
export interface StoreCounters {
  /** Write requests sent to storage (a batch transaction counts once). */
  writes: number;
  /** Read/query requests sent to storage. */
  reads: number;
}

export interface RunStore {
  readonly counters: StoreCounters;
  /** Creates tables/containers if missing. Idempotent. */
  init(): Promise<void>;
  getHead(project: string, runId: string): Promise<StoredHead | undefined>;
  /**
   * Registers a run: head + initial transitions + outbox in one transaction, lookup rows
   * (thread, session, agent), active-index entry. Idempotent on (project, runId): a second call
   * returns "exists" and changes nothing.
   */
  createRun(change: Omit<RunChange, "expectedEtag">): Promise<"created" | "exists">;
  /** Active runs in a project (for the registration cap). */
  countActive(project: string): Promise<number>;
  /** Shards that hold at least one active-index entry. */
  nonEmptyShards(): Promise<number[]>;
  /** The active-index entries of one shard: a copy of each head and the head's ETag, read in one query. */
  listShard(shard: number): Promise<StoredHead[]>;
  /**
   * Writes head + transitions + outbox rows in one transaction with If-Match on the head's ETag,
   * then refreshes the active-index entry (removing it when the run is terminal with nothing pending).
   * A stale ETag or an existing transition row → { ok: false, reason: "conflict" }, nothing written.
   */
  commit(change: RunChange): Promise<CommitResult>;
  /** Outbox rows not yet published, oldest first. */
  listPendingOutbox(limit?: number): Promise<OutboxItem[]>;
  /** Marks outbox rows sent and drops them from the head's pending list (ETag-retried). */
  markPublished(project: string, runId: string, messageIds: string[]): Promise<void>;
  listTransitions(project: string, runId: string): Promise<Transition[]>;
  listOutbox(project: string, runId: string): Promise<OutboxItem[]>;
  /** Lookup by IDs and filters, newest first, paged. */
  searchRuns(query: RunQuery): Promise<{ runs: RunHead[]; continuationToken?: string }>;
  /** Removes terminal runs whose last update is older than `before`. Returns how many runs were removed. */
  purgeHistory(before: Instant): Promise<number>;
}
