// The open-ticket path on real local parts, shared by the bus and dlq tests: the AMQP broker with
// the escalation topic (`tickets` + a filtered `sre-alerts` subscription), the real Service Bus
// client, subscribeHandler as the trigger, a webhook sink posting to a fake webhook server.
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { ServiceBusEscalationPublisher } from "../../shared/bus/publisher.js";
import { subscribeHandler, type HandlerSubscription } from "../../shared/bus/receive.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { MemoryTicketLedger } from "../../shared/tickets/ledger.js";
import { handleTicketMessage, type TicketDeps } from "../../shared/tickets/open-ticket.js";
import { SinkConfig, createSink } from "../../shared/tickets/sinks/index.js";
import { startServiceBusBroker, type EntityStats, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import { startFakeWebhook, type FakeServer } from "../support/fake-ticket-servers.js";
import { seedRun, ticketDeps } from "../unit/tickets-handler-fixtures.js";

export const TOPIC = "run-escalations";
const SECRET = "whsec-tickets-handler-test";

export interface Delivery {
  messageId: string;
  eventId?: string;
  deliveryCount: number;
  at: number;
  outcome: "ok" | "abandon" | "deadLetter";
}

export interface TicketStack {
  broker: ServiceBusBroker;
  client: ServiceBusClient;
  publisher: ServiceBusEscalationPublisher;
  webhook: FakeServer;
  store: MemoryRunStore;
  ledger: MemoryTicketLedger;
  deps: TicketDeps & { events: { runId: string; action: string }[] };
  deliveries: Delivery[];
  /** Starts the trigger (subscribeHandler) on the `tickets` subscription. */
  startTrigger(): void;
  stopTrigger(): Promise<void>;
  seed(runIds: string[]): Promise<void>;
  /** The broker's counters for a subscription (default `tickets`) or its `$DeadLetterQueue`. */
  stats(sub?: string): EntityStats;
  waitFor(what: string, cond: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTicketStack(opts: { maxDeliveryCount?: number } = {}): Promise<TicketStack> {
  const broker = await startServiceBusBroker({
    entities: {
      topics: [
        {
          name: TOPIC,
          duplicateDetectionWindowMs: 10 * 60_000,
          subscriptions: [
            { name: "tickets", maxDeliveryCount: opts.maxDeliveryCount ?? 5, lockDurationMs: 30_000 },
            // As infra should define it: a replay meant for `tickets` must not alert again.
            { name: "sre-alerts", filter: "severity IN ('high', 'critical') AND replayTo IS NULL" },
          ],
        },
      ],
    },
  });
  const client = new ServiceBusClient(broker.connectionString);
  const publisher = new ServiceBusEscalationPublisher(client, { topic: TOPIC, publishTimeoutMs: 3000 });
  const webhook = await startFakeWebhook(SECRET);
  const sink = createSink(SinkConfig.parse({ name: "hook", kind: "webhook", url: `${webhook.url}/tickets`, secretSetting: "HOOK_SECRET", timeoutMs: 2000 }), (n) => (n === "HOOK_SECRET" ? SECRET : undefined));
  const store = new MemoryRunStore();
  const ledger = new MemoryTicketLedger();
  const deps = ticketDeps(store, ledger, [sink], { retryBackoff: { baseMs: 300, maxMs: 2000 } });
  const deliveries: Delivery[] = [];
  let trigger: HandlerSubscription | undefined;

  const eventId = (m: ServiceBusReceivedMessage): string | undefined => (m.body && typeof m.body === "object" ? (m.body as { id?: string }).id : undefined);

  return {
    broker,
    client,
    publisher,
    webhook,
    store,
    ledger,
    deps,
    deliveries,
    startTrigger() {
      trigger = subscribeHandler({
        client,
        topic: TOPIC,
        subscription: "tickets",
        maxConcurrentCalls: 4,
        handler: async (m) => {
          await handleTicketMessage(deps, m.body, { deliveryCount: m.deliveryCount });
          deliveries.push({ messageId: String(m.messageId), eventId: eventId(m), deliveryCount: m.deliveryCount ?? -1, at: Date.now(), outcome: "ok" });
        },
        onHandlerError: (_e, m, settlement) => deliveries.push({ messageId: String(m.messageId), eventId: eventId(m), deliveryCount: m.deliveryCount ?? -1, at: Date.now(), outcome: settlement }),
      });
    },
    async stopTrigger() {
      await trigger?.stop();
      trigger = undefined;
    },
    async seed(runIds) {
      for (const id of runIds) await seedRun(store, id);
    },
    stats: (sub = "tickets") => broker.stats().entities[`${TOPIC}/Subscriptions/${sub}`],
    async waitFor(what, cond, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      await trigger?.stop();
      await publisher.close().catch(() => undefined);
      await webhook.close();
      await broker.dispose();
    },
  };
}
