// The escalation publisher and the Service Bus trigger helper against the local broker: the
// envelope as a subscriber receives it, duplicate-safe re-publishing, the bus going away for a
// while (failures reported fast, nothing lost), and host-like settle semantics.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import { ESCALATED_EVENT_TYPE, parseEscalationEvent } from "../../shared/bus/cloud-event.js";
import { ServiceBusEscalationPublisher } from "../../shared/bus/publisher.js";
import { subscribeHandler } from "../../shared/bus/receive.js";
import type { OutboxItem } from "../../shared/store/types.js";

const TOPIC = "run-escalations";
let broker: ServiceBusBroker;
let client: ServiceBusClient;
let publisher: ServiceBusEscalationPublisher;
const receivers: ServiceBusReceiver[] = [];

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const item = (runId: string, severity: OutboxItem["severity"], extra: Partial<OutboxItem> = {}): OutboxItem => ({
  messageId: `${runId}:failed:1`,
  kind: "escalation",
  ref: { project: "prod", api: "classic", runId, threadId: `thread_${runId}` },
  agentId: "asst_1",
  reason: "failed",
  episode: 1,
  severity,
  owner: "payments-team",
  at: Date.parse("2025-03-01T10:00:30.000Z"),
  ruleTrueAt: Date.parse("2025-03-01T10:00:10.000Z"),
  traceparent,
  status: "pending",
  ...extra,
});

beforeAll(async () => {
  broker = await startServiceBusBroker({
    entities: {
      topics: [
        {
          name: TOPIC,
          duplicateDetectionWindowMs: 10 * 60_000,
          subscriptions: [
            { name: "tickets", lockDurationMs: 2000, maxDeliveryCount: 3 },
            { name: "sre-alerts", filter: "severity IN ('high','critical')", lockDurationMs: 2000 },
            { name: "worker", filter: "owner = 'worker-test'", lockDurationMs: 2000, maxDeliveryCount: 2 },
          ],
        },
      ],
    },
  });
  client = new ServiceBusClient(broker.connectionString);
  publisher = new ServiceBusEscalationPublisher({ connectionString: broker.connectionString }, { topic: TOPIC, publishTimeoutMs: 3000 });
});

afterAll(async () => {
  for (const r of receivers) await r.close().catch(() => undefined);
  await publisher?.close();
  await client?.close();
  await broker?.dispose();
});

async function drain(subscription: string, expected: number, waitMs = 2000): Promise<ServiceBusReceivedMessage[]> {
  const r = client.createReceiver(TOPIC, subscription, { receiveMode: "receiveAndDelete" });
  receivers.push(r);
  const got: ServiceBusReceivedMessage[] = [];
  const until = Date.now() + waitMs;
  while (got.length < expected && Date.now() < until) got.push(...(await r.receiveMessages(expected - got.length, { maxWaitTimeInMs: 300 })));
  // one more short look: nothing beyond what was expected may be waiting
  got.push(...(await r.receiveMessages(10, { maxWaitTimeInMs: 200 })));
  return got;
}

describe("escalation publisher on the local Service Bus", () => {
  it("publishes CloudEvents that subscribers receive with filterable properties and trace context", async () => {
    const items = [item("run_a", "high"), item("run_b", "low"), item("run_c", "critical", { kind: "escalation", agentId: undefined })];
    const result = await publisher.publish(items);
    expect(result).toEqual({ sent: items.map((i) => i.messageId), failed: [] });

    const tickets = await drain("tickets", 3);
    expect(tickets.map((m) => m.messageId)).toEqual(["run_a:failed:1", "run_b:failed:1", "run_c:failed:1"]);
    const [first] = tickets;
    expect(first.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(first.applicationProperties).toMatchObject({
      reason: "failed",
      severity: "high",
      owner: "payments-team",
      agentId: "asst_1",
      project: "prod",
      kind: "escalation",
      "cloudEvents:specversion": "1.0",
      "cloudEvents:type": ESCALATED_EVENT_TYPE,
      "Diagnostic-Id": traceparent,
      traceparent,
    });
    const event = parseEscalationEvent(first.body);
    expect(event).toMatchObject({ specversion: "1.0", id: "run_a:failed:1", source: "/foundry-run-monitor/prod", subject: "run_a", traceparent });
    expect(event.data).toMatchObject({ runId: "run_a", threadId: "thread_run_a", severity: "high", at: "2025-03-01T10:00:30.000Z", ruleTrueAt: "2025-03-01T10:00:10.000Z" });

    const sre = await drain("sre-alerts", 2);
    expect(sre.map((m) => m.messageId)).toEqual(["run_a:failed:1", "run_c:failed:1"]);
  });

  it("re-publishing the same outbox rows (a crash before markPublished) delivers nothing twice", async () => {
    const items = [item("run_d", "high"), item("run_e", "medium")];
    expect((await publisher.publish(items)).sent).toHaveLength(2);
    const dupsBefore = broker.stats().duplicates;
    expect((await publisher.publish(items)).sent).toHaveLength(2);
    expect(broker.stats().duplicates - dupsBefore).toBe(2);
    expect((await drain("tickets", 2)).map((m) => m.messageId)).toEqual(["run_d:failed:1", "run_e:failed:1"]);
    await drain("sre-alerts", 1);
  });

  it("reports failures within seconds while the bus is away, then resumes on the same port with nothing lost", async () => {
    expect((await publisher.publish([item("run_f", "high")])).sent).toEqual(["run_f:failed:1"]);
    await broker.stop();
    try {
      const started = Date.now();
      const away = await publisher.publish([item("run_g", "high"), item("run_h", "low")]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(away.sent).toEqual([]);
      expect(away.failed.map((f) => f.messageId)).toEqual(["run_g:failed:1", "run_h:failed:1"]);
      expect(away.failed[0].error.length).toBeGreaterThan(0);
      const again = Date.now();
      expect((await publisher.publish([item("run_g", "high")])).failed).toHaveLength(1);
      expect(Date.now() - again).toBeLessThan(5000);
    } finally {
      await broker.restart();
    }
    // The outbox retries the same rows once the bus is back.
    const back = await publisher.publish([item("run_g", "high"), item("run_h", "low")]);
    expect(back).toEqual({ sent: ["run_g:failed:1", "run_h:failed:1"], failed: [] });
    const tickets = await drain("tickets", 3, 5000);
    expect(tickets.map((m) => m.messageId)).toEqual(["run_f:failed:1", "run_g:failed:1", "run_h:failed:1"]);
    await drain("sre-alerts", 2);
  });

  it("reports a message too large for Service Bus as failed without blocking the others", async () => {
    const huge = item("run_big", "low", { owner: "x".repeat(300 * 1024) });
    const result = await publisher.publish([huge, item("run_ok", "low")]);
    expect(result.sent).toEqual(["run_ok:failed:1"]);
    expect(result.failed).toEqual([{ messageId: "run_big:failed:1", error: expect.stringMatching(/MessageSizeExceeded/) }]);
    await drain("tickets", 1);
  });
});

describe("subscribeHandler (the local Service Bus trigger)", () => {
  it("completes on success, abandons on throw until the broker dead-letters, and stop() waits for handlers in flight", async () => {
    const seen: [string, number][] = [];
    let slowDone = false;
    const sub = subscribeHandler({
      client,
      topic: TOPIC,
      subscription: "worker",
      maxConcurrentCalls: 4,
      handler: async (m) => {
        seen.push([String(m.messageId), m.deliveryCount ?? -1]);
        if (m.messageId === "run_bad:failed:1") throw new Error("sink down");
        if (m.messageId === "run_slow:failed:1") {
          await new Promise((r) => setTimeout(r, 800));
          slowDone = true;
        }
      },
    });
    const worker = { owner: "worker-test" };
    await publisher.publish([item("run_good", "low", worker), item("run_bad", "low", worker)]);
    const until = Date.now() + 5000;
    while (Date.now() < until && broker.stats().entities[`${TOPIC}/Subscriptions/worker/$DeadLetterQueue`].active < 1) await new Promise((r) => setTimeout(r, 50));

    await publisher.publish([item("run_slow", "low", worker)]);
    while (!seen.some(([id]) => id === "run_slow:failed:1")) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    expect(slowDone).toBe(true);

    const stats = broker.stats().entities[`${TOPIC}/Subscriptions/worker`];
    expect(stats).toMatchObject({ completed: 2, abandoned: 2, deadLettered: 1, active: 0, locked: 0 });
    expect(seen.filter(([id]) => id === "run_bad:failed:1").map(([, n]) => n)).toEqual([0, 1]);
    expect(seen.filter(([id]) => id === "run_good:failed:1")).toHaveLength(1);

    const dlq = client.createReceiver(TOPIC, "worker", { subQueueType: "deadLetter", receiveMode: "receiveAndDelete" });
    receivers.push(dlq);
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    expect(dead.messageId).toBe("run_bad:failed:1");
    expect(dead.deadLetterReason).toBe("MaxDeliveryCountExceeded");
  });
});
