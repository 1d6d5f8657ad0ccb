// How the tracking core's events, measurements and ticket sink calls become telemetry (names,
// dimensions, operation), and W3C trace context handling. The Application Insights path itself is
// covered by test/integration/telemetry.test.ts.
import { describe, expect, test } from "@jest/globals";
import type { OutboxItem, RunHead, Transition } from "../../shared/store/types.js";
import { instrumentSink, newTraceparent, parseTraceparent, telemetryEvents, telemetryMetrics, withTraceparent, currentTraceparent, type Dimensions, type Telemetry } from "../../shared/telemetry/index.js";
import { SinkError, type TicketDraft, type TicketSink } from "../../shared/tickets/sinks/types.js";

interface Sent {
  kind: "event" | "metric" | "exception";
  name: string;
  dims: Dimensions;
  value?: number;
  measurements?: Record<string, number>;
  traceparent?: string;
}

/** A Telemetry that keeps what it is given (the trace in effect included). */
function recording(): Telemetry & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    trackEvent: (name, dims, measurements, traceparent) => sent.push({ kind: "event", name, dims, measurements, traceparent: traceparent ?? currentTraceparent() }),
    trackMetric: (name, value, dims = {}) => sent.push({ kind: "metric", name, value, dims }),
    trackException: (e, dims = {}) => sent.push({ kind: "exception", name: String(e), dims }),
    flush: async () => {},
    shutdown: async () => {},
  };
}

const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const head: RunHead = {
  ref: { project: "prod", api: "classic", runId: "run_abc123", threadId: "thread_abc123" },
  agentId: "asst_kb",
  tags: {},
  registeredAt: 0,
  status: "failed",
  lastError: { code: "tool_error", message: "lookup failed for jane.doe@contoso.com" },
  episodes: {},
  seq: 2,
  terminal: true,
  pendingOutbox: [],
  shard: 0,
  updatedAt: 0,
};
const item: OutboxItem = {
  messageId: "run_abc123:failed:1",
  kind: "escalation",
  ref: head.ref,
  agentId: "asst_kb",
  reason: "failed",
  episode: 1,
  severity: "high",
  owner: "payments-team",
  at: 70_000,
  ruleTrueAt: 40_000,
  traceparent: TP,
  status: "pending",
};

describe("trace context", () => {
  test("parses valid traceparents and rejects malformed or all-zero ones", () => {
    expect(parseTraceparent(TP)).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", sampled: true });
    for (const bad of [undefined, "", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", `00-${"0".repeat(32)}-b7ad6b7169203331-01`, "00-xyz-b7ad6b7169203331-01"]) expect(parseTraceparent(bad)).toBeUndefined();
  });

  test("a new traceparent continues its parent's trace with a new span, or starts a trace", () => {
    const child = parseTraceparent(newTraceparent(TP))!;
    expect(child.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(child.spanId).not.toBe("b7ad6b7169203331");
    const a = parseTraceparent(newTraceparent())!;
    const b = parseTraceparent(newTraceparent())!;
    expect(a.traceId).not.toBe(b.traceId);
  });

  test("withTraceparent holds across awaits and ends with the work", async () => {
    const seen = await withTraceparent(TP, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return currentTraceparent();
    });
    expect(seen).toBe(TP);
    expect(currentTraceparent()).toBeUndefined();
    expect(withTraceparent("garbage", () => currentTraceparent())).toBeUndefined();
  });
});

describe("telemetryEvents", () => {
  test("a transition becomes RunTransition with the contract's dimensions and the error code", () => {
    const t = recording();
    const transition: Transition = { project: "prod", runId: "run_abc123", seq: 2, at: 1, from: "in_progress", to: "failed" };
    telemetryEvents(t).transition(transition, head);
    expect(t.sent).toEqual([
      expect.objectContaining({ kind: "event", name: "RunTransition", dims: expect.objectContaining({ project: "prod", agentId: "asst_kb", api: "classic", from: "in_progress", to: "failed", runId: "run_abc123", errorCode: "tool_error" }) }),
    ]);
  });

  test("a published escalation becomes RunEscalated in the poll's operation, with detection latency and counts", () => {
    const t = recording();
    telemetryEvents(t).published(item, 75_000);
    const [event, ...metrics] = t.sent;
    expect(event).toMatchObject({ name: "RunEscalated", traceparent: TP, measurements: { detectionLatencyMs: 35_000 }, dims: { reason: "failed", severity: "high", owner: "payments-team", messageId: item.messageId } });
    expect(metrics).toEqual([
      expect.objectContaining({ name: "Escalations", value: 1, dims: expect.objectContaining({ reason: "failed", severity: "high" }) }),
      expect.objectContaining({ name: "DetectionLatencyMs", value: 35_000 }),
    ]);
  });

  test("a recovery becomes RunRecovered; a degraded signal one MonitorDegraded per affected project", () => {
    const t = recording();
    const events = telemetryEvents(t);
    events.published({ ...item, kind: "recovered", reason: "stalled-queued", messageId: "x:recovered" }, 1);
    events.degraded("foundry-5xx", "shard 0: 3 failed reads", 1, ["prod", "staging"]);
    events.degraded("bus-unavailable", "topic away", 1);
    expect(t.sent.map((s) => [s.name, s.dims.project, s.dims.cause ?? s.dims.reason])).toEqual([
      ["RunRecovered", "prod", "stalled-queued"],
      ["MonitorDegraded", "prod", "foundry-5xx"],
      ["MonitorDegraded", "staging", "foundry-5xx"],
      ["MonitorDegraded", "(all)", "bus-unavailable"],
    ]);
  });

  test("with a log, the events are also written as lines", () => {
    const lines: string[] = [];
    telemetryEvents(recording(), (l) => lines.push(l)).published(item, 75_000);
    expect(lines).toEqual([expect.stringContaining("escalated prod/run_abc123 failed episode 1")]);
  });
});

describe("telemetryMetrics", () => {
  test("reads are counted by outcome, failures by kind; active runs reported even at zero", () => {
    const t = recording();
    const m = telemetryMetrics(t);
    m.pollRead(head.ref, { kind: "throttled", retryAfterMs: 1000 }, 12);
    m.pollRead(head.ref, { kind: "transient", cause: "http-5xx", detail: "502" }, 30);
    m.activeRuns(3, []);
    expect(t.sent.filter((s) => s.name === "PollErrors").map((s) => s.dims.kind)).toEqual(["foundry-429", "foundry-5xx"]);
    expect(t.sent.filter((s) => s.name === "PollLatencyMs").map((s) => s.value)).toEqual([12, 30]);
    expect(t.sent.filter((s) => s.name === "ActiveRuns")).toEqual([expect.objectContaining({ value: 0, dims: { project: "(none)", status: "(none)", shard: "3" } })]);
  });

  test("an operation started inside an invocation's trace stays in that trace", () => {
    const m = telemetryMetrics(recording());
    expect(parseTraceparent(withTraceparent(TP, () => m.traceparent()))?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
  });
});

describe("instrumentSink", () => {
  const draft = { key: "run_abc123", title: "t", severity: "high", reason: "failed", body: "b", episode: 1 } as unknown as TicketDraft;

  test("success reports TicketOpened/TicketUpdated; failure reports TicketSinkFailed and rethrows the same error", async () => {
    const t = recording();
    const boom = new SinkError("desk", "answered HTTP 503", { permanent: false, status: 503 });
    let fail = false;
    const sink: TicketSink = {
      name: "desk",
      open: async () => {
        if (fail) throw boom;
        return { externalId: "D-1" };
      },
      update: async () => {},
    };
    const wrapped = instrumentSink(sink, t);
    await withTraceparent(TP, () => wrapped.open(draft));
    await wrapped.update("D-1", draft, "note");
    fail = true;
    await expect(wrapped.open(draft)).rejects.toBe(boom);
    expect(t.sent.filter((s) => s.kind === "event").map((s) => [s.name, s.dims.sink, s.dims.errorCode, s.traceparent])).toEqual([
      ["TicketOpened", "desk", undefined, TP],
      ["TicketUpdated", "desk", undefined, undefined],
      ["TicketSinkFailed", "desk", "http-503", undefined],
    ]);
    expect(t.sent.filter((s) => s.name === "TicketSinkOutcomes").map((s) => s.dims.outcome)).toEqual(["ok", "ok", "failed"]);
  });
});
