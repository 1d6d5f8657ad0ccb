import { describe, expect, it } from "@jest/globals";
import { ESCALATED_EVENT_TYPE, RECOVERED_EVENT_TYPE, parseEscalationEvent, toCloudEvent, toServiceBusMessage } from "../../shared/bus/cloud-event.js";
import type { OutboxItem } from "../../shared/store/types.js";

const at = Date.parse("2025-03-01T10:00:30.000Z");
const item: OutboxItem = {
  messageId: "run_abc:failed:1",
  kind: "escalation",
  ref: { project: "prod", api: "classic", runId: "run_abc", threadId: "thread_1" },
  agentId: "asst_1",
  reason: "failed",
  episode: 1,
  severity: "high",
  owner: "payments-team",
  at,
  ruleTrueAt: at - 20_000,
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  status: "pending",
};

describe("escalation CloudEvents envelope", () => {
  it("carries the CloudEvents 1.0 attributes and the run's data", () => {
    const e = toCloudEvent(item);
    expect(e).toEqual({
      specversion: "1.0",
      id: "run_abc:failed:1",
      source: "/foundry-run-monitor/prod",
      type: ESCALATED_EVENT_TYPE,
      subject: "run_abc",
      time: "2025-03-01T10:00:30.000Z",
      datacontenttype: "application/json",
      traceparent: item.traceparent,
      data: {
        runId: "run_abc",
        threadId: "thread_1",
        agentId: "asst_1",
        project: "prod",
        api: "classic",
        reason: "failed",
        episode: 1,
        severity: "high",
        owner: "payments-team",
        kind: "escalation",
        at: "2025-03-01T10:00:30.000Z",
        ruleTrueAt: "2025-03-01T10:00:10.000Z",
      },
    });
    expect(parseEscalationEvent(JSON.stringify(e))).toEqual(e);
  });

  it("types recoveries differently and leaves out what is unknown", () => {
    const e = toCloudEvent({ ...item, kind: "recovered", messageId: "run_abc:failed:1:recovered", agentId: undefined, ruleTrueAt: undefined, traceparent: undefined });
    expect(e.type).toBe(RECOVERED_EVENT_TYPE);
    expect("traceparent" in e).toBe(false);
    expect("agentId" in e.data).toBe(false);
    expect("ruleTrueAt" in e.data).toBe(false);
  });

  it("builds a Service Bus message keyed by the outbox messageId, with filterable properties and trace context", () => {
    const m = toServiceBusMessage(item);
    expect(m.messageId).toBe("run_abc:failed:1");
    expect(m.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(m.applicationProperties).toMatchObject({
      kind: "escalation",
      reason: "failed",
      severity: "high",
      owner: "payments-team",
      agentId: "asst_1",
      project: "prod",
      "cloudEvents:specversion": "1.0",
      "cloudEvents:type": ESCALATED_EVENT_TYPE,
      "cloudEvents:id": "run_abc:failed:1",
      "Diagnostic-Id": item.traceparent,
      traceparent: item.traceparent,
    });
    const none = toServiceBusMessage({ ...item, traceparent: undefined, agentId: undefined });
    expect(Object.keys(none.applicationProperties ?? {})).not.toEqual(expect.arrayContaining(["Diagnostic-Id"]));
    expect(Object.values(none.applicationProperties ?? {})).not.toContain(undefined);
  });

  it("refuses a body that is not one of our events", () => {
    expect(() => parseEscalationEvent({ specversion: "1.0", id: "x" })).toThrow();
    expect(() => parseEscalationEvent("not json")).toThrow();
  });
});
