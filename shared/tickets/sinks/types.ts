import type { EscalationReason, Severity } from "../../model/run.js";
import type { EvidenceBundle } from "../evidence.js";

/** What the ticket handler hands a sink: one ticket, already sanitized and rendered as Markdown. */
export interface TicketDraft {
  /** Ledger key: the run ID, or the storm group's key for a grouped incident. */
  key: string;
  title: string;
  severity: Severity;
  reason: EscalationReason;
  bundle: EvidenceBundle;
  /** The canonical Markdown body (the text `simulate` reports as the ticket body). */
  body: string;
  /** Episode of the escalation that produced this draft, when known. */
  episode?: number;
}

export interface OpenedTicket {
  /** The target's own ID for the ticket (Jira key, ServiceNow sys_id, work item ID, PagerDuty dedup_key, …). */
  externalId: string;
  url?: string;
}

export interface TicketSink {
  readonly name: string;
  open(t: TicketDraft): Promise<OpenedTicket>;
  /** Adds `note` (plain text) to the ticket, e.g. a later escalation of the same run. */
  update(externalId: string, t: TicketDraft, note: string): Promise<void>;
  /**
   * The ticket this sink already holds for `key`, if it can tell. Asked only after a crash left a
   * ticket half-opened, so a redelivery finds it instead of opening a second one.
   */
  findByKey?(key: string): Promise<OpenedTicket | undefined>;
  /** Closes/resolves the ticket when the run recovered; sinks whose tickets a human closes don't implement it. */
  resolve?(externalId: string, t: TicketDraft): Promise<void>;
}

/**
 * A sink call that did not succeed. `permanent` means retrying the same request cannot help
 * (4xx other than 408/429, bad configuration): dead-letter it. Otherwise back off and retry.
 * The message never contains credentials or request headers.
 */
export class SinkError extends Error {
  readonly permanent: boolean;
  readonly status?: number;
  readonly sink: string;
  /** From Retry-After on 429/503, when the target sent one. */
  readonly retryAfterMs?: number;

  constructor(sink: string, message: string, opts: { permanent: boolean; status?: number; retryAfterMs?: number }) {
    super(`${sink}: ${message}`);
    this.name = "SinkError";
    this.sink = sink;
    this.permanent = opts.permanent;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** 4xx except 408 (request timeout) and 429 (throttled) are permanent; 5xx, 408 and 429 are worth retrying. */
export function isPermanentStatus(status: number): boolean {
  if (status === 408 || status === 429) return false;
  return status >= 300 && status < 500;
}
