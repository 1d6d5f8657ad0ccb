// The local broker against the real @azure/service-bus client: the Service Bus behaviour the
// monitor relies on (fan-out with filters, peek-lock, redelivery, dead-lettering, duplicate
// detection, batches, peek, lock renewal, settlement by lock token after the link is lost).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver, type ServiceBusReceiverOptions } from "@azure/service-bus";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";

let broker: ServiceBusBroker;
let client: ServiceBusClient;
const receivers: ServiceBusReceiver[] = [];

const sub = (name: string, extra: object = {}) => ({ name, lockDurationMs: 2000, maxDeliveryCount: 3, ...extra });

beforeAll(async () => {
  broker = await startServiceBusBroker({
    entities: {
      topics: [
        { name: "fanout", subscriptions: [sub("tickets"), sub("sre-alerts", { filter: "severity IN ('high','critical')" })] },
        { name: "dups", duplicateDetectionWindowMs: 60_000, subscriptions: [sub("all")] },
        { name: "expiry", subscriptions: [sub("s", { lockDurationMs: 700, maxDeliveryCount: 2 })] },
      ],
      queues: [
        { name: "work", lockDurationMs: 2000, maxDeliveryCount: 3 },
        { name: "poison", lockDurationMs: 2000, maxDeliveryCount: 2 },
        { name: "batches" },
        { name: "renew", lockDurationMs: 1000 },
        { name: "lost-link", lockDurationMs: 10_000 },
      ],
    },
  });
  client = new ServiceBusClient(broker.connectionString, { retryOptions: { maxRetries: 2, retryDelayInMs: 200, timeoutInMs: 5000 } });
});

afterAll(async () => {
  for (const r of receivers) await r.close().catch(() => undefined);
  await client?.close();
  await broker?.dispose();
});

function receiver(entity: string, subscription?: string, options: ServiceBusReceiverOptions = {}): ServiceBusReceiver {
  const r = subscription ? client.createReceiver(entity, subscription, options) : client.createReceiver(entity, options);
  receivers.push(r);
  return r;
}

async function receiveAll(r: ServiceBusReceiver, expected: number, waitMs = 1500): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  const until = Date.now() + waitMs;
  while (got.length < expected && Date.now() < until) got.push(...(await r.receiveMessages(expected - got.length, { maxWaitTimeInMs: 300 })));
  return got;
}

describe("local Service Bus broker with the real client", () => {
  it("fans a topic out to subscriptions, applying each subscription's filter", async () => {
    const sender = client.createSender("fanout");
    for (const severity of ["low", "high", "critical"]) await sender.sendMessages({ body: { severity }, applicationProperties: { severity } });
    await sender.close();
    const tickets = await receiveAll(receiver("fanout", "tickets", { receiveMode: "receiveAndDelete" }), 3);
    const sre = await receiveAll(receiver("fanout", "sre-alerts", { receiveMode: "receiveAndDelete" }), 3, 800);
    expect(tickets.map((m) => m.applicationProperties?.severity)).toEqual(["low", "high", "critical"]);
    expect(sre.map((m) => m.applicationProperties?.severity)).toEqual(["high", "critical"]);
    // receive-and-delete: nothing left behind
    expect(broker.stats().entities["fanout/Subscriptions/tickets"]).toMatchObject({ active: 0, locked: 0 });
  });

  it("peek-lock: complete removes the message; abandon brings it back with the delivery count raised", async () => {
    const sender = client.createSender("work");
    await sender.sendMessages([{ body: "done", messageId: "w1" }, { body: "again", messageId: "w2" }]);
    await sender.close();
    const r = receiver("work");
    const first = await receiveAll(r, 2);
    expect(first.map((m) => [m.body, m.deliveryCount])).toEqual([["done", 0], ["again", 0]]);
    expect(first[0].lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(first[0].sequenceNumber?.toNumber()).toBe(1);
    expect(first[0].lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
    expect(first[0].enqueuedTimeUtc).toBeInstanceOf(Date);
    await r.completeMessage(first[0]);
    await r.abandonMessage(first[1]);
    const second = await receiveAll(r, 1);
    // The JS client reports the AMQP delivery-count: 0 on the first delivery, 1 after one abandon.
    expect(second.map((m) => [m.body, m.deliveryCount])).toEqual([["again", 1]]);
    await r.completeMessage(second[0]);
    expect(await r.peekMessages(10, { fromSequenceNumber: undefined })).toHaveLength(0);
    expect(broker.stats().entities.work).toMatchObject({ completed: 2, abandoned: 1, active: 0, locked: 0 });
  });

  it("an expired lock redelivers the message, and settling with the old lock fails with MessageLockLost", async () => {
    const sender = client.createSender("expiry");
    await sender.sendMessages({ body: "slow" });
    await sender.close();
    // The client renews locks on its own unless told not to.
    const r = receiver("expiry", "s", { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiveAll(r, 1);
    expect(m.deliveryCount).toBe(0);
    const [again] = await receiveAll(r, 1, 3000);
    expect(again.body).toBe("slow");
    expect(again.deliveryCount).toBe(1);
    await expect(r.completeMessage(m)).rejects.toMatchObject({ code: "MessageLockLost" });
    // Second expiry reaches maxDeliveryCount 2: dead-lettered with the service's reason.
    const dlq = receiver("expiry", "s", { subQueueType: "deadLetter" });
    const [dead] = await receiveAll(dlq, 1, 3000);
    expect(dead.body).toBe("slow");
    expect(dead.deadLetterReason).toBe("MaxDeliveryCountExceeded");
    await dlq.completeMessage(dead);
  });

  it("dead-letters after maxDeliveryCount abandons, and on request with reason and description", async () => {
    const sender = client.createSender("poison");
    await sender.sendMessages([{ body: "poison", messageId: "p1" }, { body: "bad input", messageId: "p2" }]);
    await sender.close();
    const r = receiver("poison");
    const batch = await receiveAll(r, 2);
    const poison = batch.find((m) => m.body === "poison")!;
    await r.deadLetterMessage(batch.find((m) => m.body === "bad input")!, { deadLetterReason: "InvalidBody", deadLetterErrorDescription: "not a CloudEvent" });
    await r.abandonMessage(poison);
    const [again] = await receiveAll(r, 1);
    expect(again.deliveryCount).toBe(1);
    await r.abandonMessage(again);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    const dlq = receiver("poison", undefined, { subQueueType: "deadLetter" });
    const dead = await receiveAll(dlq, 2);
    const byId = Object.fromEntries(dead.map((m) => [String(m.messageId), m]));
    expect(byId.p1).toMatchObject({ body: "poison", deadLetterReason: "MaxDeliveryCountExceeded" });
    expect(byId.p2).toMatchObject({ body: "bad input", deadLetterReason: "InvalidBody", deadLetterErrorDescription: "not a CloudEvent" });
    for (const m of dead) await dlq.completeMessage(m);
  });

  it("drops a duplicate messageId inside the detection window (accepted, delivered once)", async () => {
    const sender = client.createSender("dups");
    const before = broker.stats().duplicates;
    await sender.sendMessages({ body: 1, messageId: "run_1:failed:1" });
    await sender.sendMessages({ body: 2, messageId: "run_1:failed:1" });
    await sender.sendMessages({ body: 3, messageId: "run_1:stalled-queued:1" });
    await sender.close();
    const got = await receiveAll(receiver("dups", "all", { receiveMode: "receiveAndDelete" }), 3, 1000);
    expect(got.map((m) => [m.messageId, m.body])).toEqual([
      ["run_1:failed:1", 1],
      ["run_1:stalled-queued:1", 3],
    ]);
    expect(broker.stats().duplicates - before).toBe(1);
  });

  it("unpacks batch sends, honours the batch size limit and gives every message an id and a sequence number", async () => {
    const sender = client.createSender("batches");
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    for (let i = 0; i < 50; i++) expect(batch.tryAddMessage({ body: { i }, applicationProperties: { i } })).toBe(true);
    expect(batch.tryAddMessage({ body: "x".repeat(300 * 1024) })).toBe(false);
    await sender.sendMessages(batch);
    await sender.close();
    const r = receiver("batches", undefined, { receiveMode: "receiveAndDelete" });
    const got = await receiveAll(r, 50, 3000);
    expect(got.map((m) => (m.body as { i: number }).i)).toEqual([...Array(50).keys()]);
    expect(new Set(got.map((m) => m.sequenceNumber!.toNumber())).size).toBe(50);
    expect(got.every((m) => typeof m.messageId === "string" && m.messageId.length > 0)).toBe(true);
  });

  it("peeks without locking and renews a lock past its original expiry", async () => {
    const sender = client.createSender("renew");
    await sender.sendMessages({ body: "long job", messageId: "r1" });
    await sender.close();
    const r = receiver("renew", undefined, { maxAutoLockRenewalDurationInMs: 0 });
    const peeked = await r.peekMessages(5);
    expect(peeked.map((m) => [m.body, m.sequenceNumber?.toNumber()])).toEqual([["long job", 1]]);
    const [m] = await receiveAll(r, 1);
    const firstUntil = m.lockedUntilUtc!.getTime();
    await new Promise((res) => setTimeout(res, 600));
    const renewed = await r.renewMessageLock(m);
    expect(renewed.getTime()).toBeGreaterThan(firstUntil);
    await new Promise((res) => setTimeout(res, 700)); // past the original 1 s lock
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 200 })).toHaveLength(0);
    await r.completeMessage(m);
    expect(broker.stats().entities.renew).toMatchObject({ completed: 1, lockExpired: 0 });
  });

  it("settles by lock token through $management after the receiving link was lost", async () => {
    const sender = client.createSender("lost-link");
    await sender.sendMessages({ body: "keep the lock", messageId: "l1" });
    await sender.close();
    const r = receiver("lost-link");
    const [m] = await receiveAll(r, 1);
    await broker.stop();
    await broker.restart();
    const before = broker.stats().management["com.microsoft:update-disposition"] ?? 0;
    await r.completeMessage(m);
    expect(broker.stats().entities["lost-link"]).toMatchObject({ completed: 1, active: 0, locked: 0 });
    expect(broker.stats().management["com.microsoft:update-disposition"]).toBe(before + 1);
  });

  it("defers a message and receives it back by sequence number", async () => {
    const sender = client.createSender("work");
    await sender.sendMessages({ body: "later", messageId: "d1" });
    await sender.close();
    const r = receiver("work");
    const [m] = await receiveAll(r, 1);
    await r.deferMessage(m);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 200 })).toHaveLength(0);
    const [deferred] = await r.receiveDeferredMessages(m.sequenceNumber!);
    expect(deferred.body).toBe("later");
    await r.completeMessage(deferred);
    expect(broker.stats().entities.work).toMatchObject({ active: 0, locked: 0, deferred: 0 });
  });

  it("refuses an entity that does not exist", async () => {
    const sender = client.createSender("no-such-topic");
    await expect(sender.sendMessages({ body: 1 })).rejects.toMatchObject({ code: "MessagingEntityNotFound" });
    await sender.close();
  });
});
