// The monitor's vocabulary: what a run is, what we saw of it, and what we decided about it.
// Times are epoch milliseconds (`Instant`) everywhere inside the monitor; adapters convert
// Foundry's epoch seconds / ISO strings at the boundary.

export type Instant = number;

/** Which Foundry API a run lives behind. Classic = threads/runs (`@azure/ai-agents`), responses = v2 background responses. */
export type Api = "classic" | "responses";

export const RUN_STATUSES = [
  "queued",
  "in_progress",
  "requires_action",
  "cancelling",
  "cancelled",
  "failed",
  "completed",
  "expired",
  "incomplete",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "cancelled",
  "failed",
  "completed",
  "expired",
  "incomplete",
]);
export const isTerminal = (s: RunStatus): boolean => TERMINAL_STATUSES.has(s);
export const isRunStatus = (s: unknown): s is RunStatus => typeof s === "string" && (RUN_STATUSES as readonly string[]).includes(s);

/** Identifies one run in one Foundry project. `threadId` is the classic thread or the v2 conversation (may be empty for a response without one). */
export interface RunRef {
  project: string;
  api: Api;
  runId: string;
  threadId: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface RunError {
  code: string;
  message: string;
}

export interface PendingToolCall {
  id: string;
  type: string;
  name?: string;
}

/** A run step (classic) or an output item (v2) reduced to what the monitor reports: never raw arguments or outputs. */
export interface StepSummary {
  id: string;
  /** `tool_calls` | `message_creation` (classic) or the v2 output item type (`function_call`, `message`, …). */
  type: string;
  status: string;
  createdAt?: Instant;
  completedAt?: Instant;
  /** One entry per tool call inside the step. */
  toolCalls: { id: string; type: string; name?: string }[];
  messageId?: string;
}

/** One normalized read of a run, the same for both APIs. */
export interface Observation {
  ref: RunRef;
  status: RunStatus;
  agentId?: string;
  agentName?: string;
  agentVersion?: string;
  model?: string;
  createdAt: Instant;
  /** Classic: latest entry into in_progress (Foundry resets it on resume). v2: not reported by the API. */
  startedAt?: Instant;
  completedAt?: Instant;
  failedAt?: Instant;
  cancelledAt?: Instant;
  expiresAt?: Instant;
  usage?: Usage;
  lastError?: RunError;
  incompleteDetails?: { reason: string };
  requiredAction?: { toolCalls: PendingToolCall[]; expiresAt?: Instant };
  /** Present only when steps were fetched. */
  steps?: StepSummary[];
  /** Latest progress time the API itself reports (max step created/completed time), when it reports one. */
  lastProgressAt?: Instant;
  /**
   * An opaque marker that changes whenever the run makes progress (step count + newest step state,
   * or v2 output item count). Used where the API gives no progress timestamps.
   */
  progressMarker?: string;
  finalMessageId?: string;
}

/** Why a poll did not produce an observation. Expected trouble, not errors: counted, retried, never escalated. */
export type TransientCause = "http-5xx" | "timeout" | "malformed" | "network";

export type PollOutcome =
  | { kind: "observed"; observation: Observation }
  | { kind: "not-found" }
  | { kind: "throttled"; retryAfterMs: number }
  | { kind: "transient"; cause: TransientCause; detail: string };

export const ESCALATION_REASONS = [
  "failed",
  "expired",
  "incomplete",
  "cancelled",
  "stalled-queued",
  "stalled-in-progress",
  "stalled-requires-action",
  "stalled-cancelling",
  "max-runtime",
  "vanished",
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export type Severity = "low" | "medium" | "high" | "critical";
