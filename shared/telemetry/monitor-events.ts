import type { MonitorEvents } from "../tracking/deps.js";
import { loggingEvents } from "../tracking/logging-events.js";
import { ALL_PROJECTS, NONE } from "./names.js";
import type { Telemetry } from "./telemetry.js";

/** Longest error text sent with an event: enough to recognize the failure, not a transcript. */
const MAX_MESSAGE = 256;

const silentLog: MonitorEvents = { registered() {}, transition() {}, published() {}, degraded() {} };

/**
 * The tracking core's events as Application Insights custom events and metrics (and, with `log`,
 * as log lines too). Dimensions are IDs, statuses, reasons and owners; the one free-text field
 * (a degraded signal's detail, which may quote Foundry) is sanitized like every other value by
 * the Telemetry implementation.
 */
export function telemetryEvents(telemetry: Telemetry, log?: (line: string) => void): MonitorEvents {
  const lines = log ? loggingEvents(log) : silentLog;
  return {
    registered(head, at) {
      lines.registered(head, at);
    },
    transition(t, head) {
      lines.transition(t, head);
      telemetry.trackEvent("RunTransition", {
        project: t.project,
        agentId: head.agentId ?? NONE,
        api: head.ref.api,
        from: t.from ?? NONE,
        to: t.to,
        runId: t.runId,
        threadId: head.ref.threadId,
        seq: t.seq,
        // What failed, for failure rates by error code. The message is run content (a tool's
        // error may quote anything): sanitized when observed, and again on the way out.
        ...(t.to === head.status && head.lastError ? { errorCode: head.lastError.code, errorMessage: head.lastError.message.slice(0, MAX_MESSAGE) } : {}),
      });
    },
    published(item, at) {
      lines.published(item, at);
      const common = { project: item.ref.project, agentId: item.agentId ?? NONE, reason: item.reason, runId: item.ref.runId, threadId: item.ref.threadId, episode: item.episode };
      if (item.kind === "recovered") {
        telemetry.trackEvent("RunRecovered", common, undefined, item.traceparent);
        return;
      }
      // Detection latency: the rule became true → the escalation left for Service Bus.
      const detectionLatencyMs = item.ruleTrueAt !== undefined ? Math.max(0, at - item.ruleTrueAt) : undefined;
      telemetry.trackEvent(
        "RunEscalated",
        { ...common, api: item.ref.api, severity: item.severity, owner: item.owner, messageId: item.messageId },
        detectionLatencyMs !== undefined ? { detectionLatencyMs } : undefined,
        item.traceparent,
      );
      telemetry.trackMetric("Escalations", 1, { project: item.ref.project, agentId: item.agentId ?? NONE, reason: item.reason, severity: item.severity });
      if (detectionLatencyMs !== undefined) telemetry.trackMetric("DetectionLatencyMs", detectionLatencyMs, { project: item.ref.project, reason: item.reason });
    },
    degraded(reason, detail, at, projects) {
      lines.degraded(reason, detail, at, projects);
      for (const project of projects?.length ? projects : [ALL_PROJECTS]) telemetry.trackEvent("MonitorDegraded", { project, cause: reason, detail });
    },
  };
}
