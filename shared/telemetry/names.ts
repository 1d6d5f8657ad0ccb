// The telemetry contract: the only event and metric names the app sends, and the dimensions each
// event always carries. infra/telemetry-names.json, the alert rules and the workbook query these
// names; test/unit/telemetry-names.test.ts keeps them in step.

export const EVENT_NAMES = ["RunTransition", "RunEscalated", "RunRecovered", "TicketOpened", "TicketUpdated", "TicketSinkFailed", "MonitorDegraded"] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export const METRIC_NAMES = [
  "ActiveRuns",
  "Polls",
  "PollErrors",
  "PollLatencyMs",
  "DetectionLatencyMs",
  "OutboxDepth",
  "OutboxAgeSeconds",
  "Escalations",
  "TicketSinkOutcomes",
  "DeadLetteredMessages",
  "ToolCalls",
  "ToolCallDurationMs",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Dimensions (customDimensions.*) every event of that name carries; alerts split by these. */
export const EVENT_DIMENSIONS = {
  RunTransition: ["project", "agentId", "api", "from", "to"],
  RunEscalated: ["project", "agentId", "api", "reason", "severity", "owner"],
  RunRecovered: ["project", "agentId", "reason"],
  TicketOpened: ["sink", "reason", "severity"],
  TicketUpdated: ["sink", "reason", "severity"],
  TicketSinkFailed: ["sink", "reason", "errorCode"],
  MonitorDegraded: ["project", "cause"],
} as const satisfies Record<EventName, readonly string[]>;

/** Further properties some events carry (IDs to find the run, error codes): fine in workbooks, not alert dimensions. */
export const EVENT_PROPERTIES = {
  RunTransition: ["runId", "threadId", "seq", "errorCode", "errorMessage"],
  RunEscalated: ["runId", "threadId", "episode", "messageId"],
  RunRecovered: ["runId", "threadId", "episode"],
  TicketOpened: ["ticketKey", "episode", "action"],
  TicketUpdated: ["ticketKey", "episode", "action"],
  TicketSinkFailed: ["severity", "ticketKey", "episode", "action", "permanent", "message"],
  MonitorDegraded: ["detail"],
} as const satisfies Record<EventName, readonly string[]>;

/** Dimensions each metric carries (customDimensions.* on customMetrics rows). */
export const METRIC_DIMENSIONS = {
  ActiveRuns: ["project", "status", "shard"],
  Polls: ["project", "api", "outcome"],
  PollErrors: ["project", "api", "kind"],
  PollLatencyMs: ["project", "api", "outcome"],
  DetectionLatencyMs: ["project", "reason"],
  OutboxDepth: [],
  OutboxAgeSeconds: [],
  Escalations: ["project", "agentId", "reason", "severity"],
  TicketSinkOutcomes: ["sink", "action", "outcome"],
  DeadLetteredMessages: ["entity"],
  ToolCalls: ["project", "agentId", "tool", "status"],
  ToolCallDurationMs: ["project", "agentId", "tool"],
} as const satisfies Record<MetricName, readonly string[]>;

/** Measurements (customMeasurements.*) on events: exact per-item numbers, e.g. for latency percentiles. */
export const EVENT_MEASUREMENTS = {
  RunEscalated: ["detectionLatencyMs"],
} as const satisfies Partial<Record<EventName, readonly string[]>>;

/** Dimension values used when the real one is unknown or not applicable. */
export const NONE = "(none)";
export const ALL_PROJECTS = "(all)";
