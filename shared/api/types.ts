import type { EscalationReason, Instant } from "../model/run.js";
import type { RemediationRecord } from "../remediation/types.js";
import type { RunHead, RunStore } from "../store/types.js";

/** A ticket the ledger holds for a run, as the timeline shows it. */
export interface TicketLink {
  /** The ledger's ID (the run ID, or a storm group's key). */
  ticketId: string;
  /** Which sink holds it (jira, servicenow, file, …). */
  sink?: string;
  /** The target's own ID (Jira key, ServiceNow sys_id, …). */
  externalId?: string;
  url?: string;
  reason?: EscalationReason;
  action?: "opened" | "updated" | "grouped" | "resolved";
  at?: Instant;
}

/** Read side of the ticket ledger; optional, the timeline simply has no tickets without it. */
export interface TicketLedgerReader {
  ticketsForRun(project: string, runId: string): Promise<TicketLink[]>;
}

/** Read side of the remediation ledger: what the monitor did to a run (cancel, retry). Optional, like the ticket ledger. */
export interface RemediationReader {
  remediationForRun(head: RunHead): Promise<RemediationRecord[]>;
}

/**
 * Where the final message's text comes from when a bundle should carry its hash (the head stores
 * only its ID). Optional: without it the evidence names the message ID only.
 */
export interface FinalMessageReader {
  finalMessage(project: string, runId: string, messageId: string): Promise<{ id: string; role: string; text: string } | undefined>;
}

/** `principal`: App Service authentication roles are required. `local-open`: the local stack only, no principal needed. */
export type AuthMode = "principal" | "local-open";

export interface ApiDeps {
  store: RunStore;
  tickets?: TicketLedgerReader;
  /** Remediation the monitor carried out; without it the timeline simply has none (`remediation: null`). */
  remediation?: RemediationReader;
  messages?: FinalMessageReader;
  /** Evidence policy: whether sanitized message text may appear in exported bundles. */
  evidencePolicy?: { includeMessageText?: boolean; includeToolArguments?: boolean };
  authMode: AuthMode;
  /** Public base URL for links in evidence (DASHBOARD_BASE_URL); the request's origin when absent. */
  publicBaseUrl?: string;
  now: () => Instant;
}

/** A request reduced to what the API reads; built from an Azure Functions HttpRequest or a Node request. */
export interface ApiRequest {
  method: string;
  url: string;
  header(name: string): string | null | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON responses. */
  json?: unknown;
  /** Text responses (Markdown evidence). */
  text?: string;
}
