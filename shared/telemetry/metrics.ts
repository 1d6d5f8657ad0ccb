import type { Metrics } from "../tracking/deps.js";
import { degradedReasonOf } from "../tracking/poll-shard.js";
import { NONE } from "./names.js";
import type { Telemetry } from "./telemetry.js";
import { currentTraceparent, newTraceparent } from "./trace-context.js";

/** The tracking core's measurements as Application Insights metrics (see names.ts for their dimensions). */
export function telemetryMetrics(telemetry: Telemetry): Metrics {
  return {
    pollRead(ref, outcome, latencyMs) {
      const dims = { project: ref.project, api: ref.api, outcome: outcome.kind };
      telemetry.trackMetric("Polls", 1, dims);
      telemetry.trackMetric("PollLatencyMs", latencyMs, dims);
      if (outcome.kind === "throttled" || outcome.kind === "transient") {
        telemetry.trackMetric("PollErrors", 1, { project: ref.project, api: ref.api, kind: degradedReasonOf(outcome) });
      }
    },
    outbox(depth, oldestAgeSeconds) {
      telemetry.trackMetric("OutboxDepth", depth);
      telemetry.trackMetric("OutboxAgeSeconds", oldestAgeSeconds);
    },
    activeRuns(shard, counts) {
      const at = shard === undefined ? "all" : String(shard);
      // Sent even at zero: the "monitor silent" alert fires when this gauge stops arriving.
      if (counts.length === 0) telemetry.trackMetric("ActiveRuns", 0, { project: NONE, status: NONE, shard: at });
      for (const c of counts) telemetry.trackMetric("ActiveRuns", c.count, { project: c.project, status: c.status, shard: at });
    },
    // A child of the invocation's trace when there is one (the Functions host's operation), else a new operation.
    traceparent: () => newTraceparent(currentTraceparent()),
    // Per agent and tool: the SDK aggregates to count, sum, min and max per minute; the workbook
    // reads failure rates from ToolCalls by status and latency from ToolCallDurationMs.
    toolCall(call) {
      telemetry.trackMetric("ToolCalls", 1, { project: call.project, agentId: call.agentId, tool: call.tool, status: call.status });
      telemetry.trackMetric("ToolCallDurationMs", call.durationMs, { project: call.project, agentId: call.agentId, tool: call.tool });
    },
  };
}

/** Messages found in a dead-letter queue (reported by whoever reads the DLQ, e.g. `run-monitor dlq`). */
export function reportDeadLettered(telemetry: Telemetry, entity: string, count: number): void {
  telemetry.trackMetric("DeadLetteredMessages", count, { entity });
}
