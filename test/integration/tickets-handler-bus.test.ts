// The open-ticket handler behind the local Service Bus trigger, on the real broker: a permanent
// sink rejection is dead-lettered at once with its reason, a transient one is held (backoff),
// abandoned and redelivered until it succeeds, and a redelivered message opens nothing new.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { toServiceBusMessage } from "../../shared/bus/cloud-event.js";
import { escalation } from "../unit/tickets-handler-fixtures.js";
import { TOPIC, startTicketStack, type TicketStack } from "./tickets-handler-stack.js";

let stack: TicketStack;

beforeAll(async () => {
  stack = await startTicketStack({ maxDeliveryCount: 5 });
  stack.startTrigger();
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

const opensFor = (runId: string) => stack.webhook.received.filter((r) => (r.json as { action?: string; key?: string })?.action === "open" && (r.json as { key?: string }).key === runId);

describe("open-ticket on the local broker", () => {
  it("dead-letters a permanent 4xx at the first delivery, with the reason and the sink's answer", async () => {
    await stack.seed(["run_p1"]);
    stack.webhook.failNext({ status: 422, body: { error: "unknown field severity" } });
    const before = stack.webhook.received.length;
    expect((await stack.publisher.publish([escalation("run_p1")])).sent).toEqual(["run_p1:failed:1"]);
    await stack.waitFor("the dead-letter", () => stack.stats().deadLettered >= 1);

    expect(stack.webhook.received.length - before).toBe(1); // no retries burnt on it
    expect(stack.stats()).toMatchObject({ abandoned: 0, deadLettered: 1 });
    const dlq = stack.client.createReceiver(TOPIC, "tickets", { subQueueType: "deadLetter" });
    const [dead] = await dlq.peekMessages(10);
    await dlq.close();
    expect(dead.messageId).toBe("run_p1:failed:1");
    expect(dead.deadLetterReason).toBe("SinkRejected");
    expect(dead.deadLetterErrorDescription).toBe('hook: POST webhook answered HTTP 422: {"error":"unknown field severity"}');
    expect(dead.deliveryCount).toBe(0);
    expect(stack.deliveries.filter((d) => d.messageId === "run_p1:failed:1").map((d) => d.outcome)).toEqual(["deadLetter"]);
  });

  it("abandons a transient 5xx after a backoff hold and succeeds on a redelivery", async () => {
    await stack.seed(["run_t1"]);
    stack.webhook.failNext({ status: 503, body: "upstream unavailable" }, 2);
    const abandonedBefore = stack.stats().abandoned;
    await stack.publisher.publish([escalation("run_t1")]);
    await stack.waitFor("the ticket", () => stack.deps.events.some((e) => e.runId === "run_t1"), 20_000);

    const mine = stack.deliveries.filter((d) => d.messageId === "run_t1:failed:1");
    expect(mine.map((d) => [d.outcome, d.deliveryCount])).toEqual([
      ["abandon", 0],
      ["abandon", 1],
      ["ok", 2],
    ]);
    expect(stack.stats().abandoned - abandonedBefore).toBe(2);
    // Three POSTs to the sink, the last one the ticket; the redeliveries came after the backoff (300 ms, then 600 ms).
    expect(opensFor("run_t1")).toHaveLength(3);
    expect(stack.webhook.problems()).toEqual([]);
    expect(mine[1].at - mine[0].at).toBeGreaterThanOrEqual(300 - 50);
    expect(mine[2].at - mine[1].at).toBeGreaterThanOrEqual(600 - 50);
    expect(stack.deps.events.filter((e) => e.runId === "run_t1").map((e) => e.action)).toEqual(["opened"]);
  });

  it("changes nothing when the same message comes again (duplicate detection, then the ledger)", async () => {
    await stack.seed(["run_d1"]);
    await stack.publisher.publish([escalation("run_d1")]);
    await stack.waitFor("the ticket", () => stack.deps.events.some((e) => e.runId === "run_d1"));
    const posts = stack.webhook.received.length;
    const acceptedBefore = stack.broker.stats().duplicates;

    // Same messageId: the topic drops it.
    await stack.publisher.publish([escalation("run_d1")]);
    expect(stack.broker.stats().duplicates).toBe(acceptedBefore + 1);
    // Same event under another messageId (what a replay sends): delivered, and the ledger says "duplicate".
    const sender = stack.client.createSender(TOPIC);
    await sender.sendMessages({ ...toServiceBusMessage(escalation("run_d1")), messageId: "run_d1:failed:1:replay:1" });
    await sender.close();
    await stack.waitFor("the redelivery", () => stack.deliveries.some((d) => d.messageId === "run_d1:failed:1:replay:1"));

    expect(stack.deliveries.find((d) => d.messageId === "run_d1:failed:1:replay:1")?.outcome).toBe("ok");
    expect(stack.webhook.received.length).toBe(posts);
    expect(stack.deps.events.filter((e) => e.runId === "run_d1")).toHaveLength(1);
  });
});
