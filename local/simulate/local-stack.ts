import { ServiceBusClient } from "@azure/service-bus";
import { parseEscalationEvent } from "../../shared/bus/cloud-event.js";
import { ServiceBusEscalationPublisher } from "../../shared/bus/publisher.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ProjectRunSources } from "../../shared/foundry/project-run-sources.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import type { PollOutcome, RunRef, StepSummary } from "../../shared/model/run.js";
import { createTableRunStore } from "../../shared/store/table-store.js";
import { outboxItemOf } from "../../shared/tickets/escalation-message.js";
import { TableTicketLedger } from "../../shared/tickets/ledger.js";
import { handleEscalationMessage } from "../../shared/tickets/open-ticket.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import { TableClient } from "@azure/data-tables";
import { startAzurite } from "../azurite.js";
import { startFoundrySimulator, type FoundrySimulator } from "../foundry-sim/index.js";
import { MemoryTicketSink } from "../memory-sink.js";
import type { Scenario } from "../scenario/schema.js";
import { startServiceBusBroker } from "../service-bus/broker.js";
import { runScenario, projectOf, type ScenarioForEngine } from "./engine.js";
import { EventLog, type SimEvent } from "./events.js";
import { ticketDepsFor, type SimulateOptions } from "./run.js";
import { progressBar } from "../../cli/progress.js";

export const ESCALATION_TOPIC = "run-escalations";

/** Keeps the HTTPS simulator's manual clock on the monitor's virtual time before every read. */
export class ClockSyncedSource implements RunSource {
  constructor(private readonly inner: RunSource, private readonly sim: FoundrySimulator, private readonly start: number, private readonly clock: VirtualClock) {}
  private sync(): void {
    const at = (this.clock.now() - this.start) / 1000;
    if (at > this.sim.now()) this.sim.setClock(at);
  }
  poll(ref: RunRef, options?: { steps?: boolean; signal?: AbortSignal }): Promise<PollOutcome> {
    this.sync();
    return this.inner.poll(ref, options);
  }
  listSteps(ref: RunRef): Promise<StepSummary[]> {
    this.sync();
    return this.inner.listSteps(ref);
  }
  finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    this.sync();
    return this.inner.finalMessage(ref);
  }
}

/**
 * The same scenario through the real parts: Azurite Tables for the store and ledger, the real
 * Service Bus client against the local AMQP broker, the real Foundry SDK clients against the
 * HTTPS simulator on a manual clock that follows the monitor's virtual time.
 */
export async function simulateOnLocalStack(scenario: Scenario, opts: Pick<SimulateOptions, "seed" | "progress">): Promise<SimEvent[]> {
  const start = Date.parse(scenario.start);
  const clock = new VirtualClock(start);
  const log = new EventLog();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const azurite = await startAzurite();
    cleanups.push(() => azurite.stop());
    const sim = await startFoundrySimulator({ scenario, clock: "manual", seed: opts.seed, port: 0, timeoutHoldMs: 1000 });
    cleanups.push(() => sim.close());
    const broker = await startServiceBusBroker({
      entities: { topics: [{ name: ESCALATION_TOPIC, duplicateDetectionWindowMs: 10 * 60_000, subscriptions: [{ name: "tickets", maxDeliveryCount: 10, lockDurationMs: 30_000 }] }] },
    });
    cleanups.push(() => broker.dispose());

    const origin = new URL(sim.endpoint).origin;
    const projects = [...new Set(scenario.runs.map(projectOf))].map((name) => ({ name, endpoint: `${origin}/api/projects/${name}`, api: "both" as const, discovery: false }));
    const source = new ClockSyncedSource(new ProjectRunSources(projects, { credential: localSimulatorCredential, ca: sim.caPem, timeoutMs: 800 }), sim, start, clock);
    const store = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: "sim" });
    const ledger = new TableTicketLedger(TableClient.fromConnectionString(azurite.connectionString, "simtickets", { allowInsecureConnection: true }));
    await ledger.init();
    const publisher = new ServiceBusEscalationPublisher({ connectionString: broker.connectionString }, { topic: ESCALATION_TOPIC });
    cleanups.unshift(() => publisher.close());
    const bus = new ServiceBusClient(broker.connectionString);
    cleanups.unshift(() => bus.close());
    const receiver = bus.createReceiver(ESCALATION_TOPIC, "tickets", { receiveMode: "peekLock" });
    cleanups.unshift(() => receiver.close());
    const tickets = ticketDepsFor(scenario, { store, ledger, source, sinks: [new MemoryTicketSink()], now: () => clock.now(), onTicket: log.ticket });
    const bar = opts.progress ? progressBar(`simulate ${scenario.name} (local stack)`, scenario.duration, "s") : undefined;

    await runScenario(scenario as unknown as ScenarioForEngine, {
      store,
      source,
      publisher,
      events: log,
      clock,
      onProgress: (done) => bar?.update(done),
      afterStep: async () => {
        // Drain what was published: the broker delivers at once, so a short wait finds it all.
        for (;;) {
          const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 150 });
          if (batch.length === 0) break;
          for (const m of batch) {
            await handleEscalationMessage(tickets, outboxItemOf(parseEscalationEvent(m.body)));
            await receiver.completeMessage(m);
          }
        }
      },
    });
    bar?.stop();
    return log.sorted();
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}
