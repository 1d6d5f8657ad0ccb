export { type OpenedTicket, SinkError, type TicketDraft, type TicketSink, isPermanentStatus } from "./types.js";
export { type CreateSinkOptions, SinkConfig, type SinkConfigInput, SinkConfigList, createSink, parseSinkConfigs, sinkAccepts } from "./config.js";
export { signWebhook, type WebhookPayload } from "./webhook.js";
export { fileTicketId, type FileSinkLine } from "./file.js";
export { pagerDutyDedupKey } from "./pagerduty.js";
