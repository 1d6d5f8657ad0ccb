// Service Bus away for a minute of simulated time: the monitor keeps polling on its virtual clock
// (real Table store on Azurite, SDK adapters against the HTTPS simulator) while the local broker is
// stopped — publishing fails fast, `bus-unavailable` is reported, escalations decided meanwhile stay
// pending in the outbox — and once the broker is back on the same port everything is published:
// each messageId delivered exactly once, the same messages and transitions as a run that never
// lost the bus.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ServiceBusClient } from "@azure/service-bus";
import { chaosScenarioJson } from "../../local/chaos/scenario.js";
import { runReference } from "../../local/chaos/reference.js";
import { chaosTrackerDeps, runStep, scheduleOf } from "../../local/chaos/schedule.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";
import { parseScenario, type Scenario } from "../../local/scenario/schema.js";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import { ServiceBusEscalationPublisher } from "../../shared/bus/publisher.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ProjectRunSources } from "../../shared/foundry/project-run-sources.js";
import { createTableRunStore } from "../../shared/store/table-store.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import type { DegradedReason, MonitorEvents } from "../../shared/tracking/deps.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { countBy, drainSubscription, indexedRunIds, recordsOf, seqProblems } from "./chaos-support.js";
import { ClockSyncedSource } from "../../local/simulate/local-stack.js";

const TOPIC = "run-escalations";
const AWAY_FROM = 100; // scenario seconds: the broker stops after the sweep at 90 s…
const AWAY_UNTIL = 160; // …and is back once the sweep at 150 s is done: sweeps at 120 and 150 run without it

let azurite: AzuriteInstance;
let broker: ServiceBusBroker;
let sim: FoundrySimulator;
let scenario: Scenario;

beforeAll(async () => {
  scenario = parseScenario(chaosScenarioJson());
  [azurite, sim, broker] = await Promise.all([
    startAzurite(),
    startFoundrySimulator({ scenario, clock: "manual", port: 0 }),
    startServiceBusBroker({ entities: { topics: [{ name: TOPIC, duplicateDetectionWindowMs: 30 * 60_000, subscriptions: [{ name: "tickets", maxDeliveryCount: 10, lockDurationMs: 60_000 }] }] } }),
  ]);
}, 60_000);

afterAll(async () => {
  await broker?.dispose();
  await sim?.close();
  await azurite?.stop();
});

describe("Service Bus away for a minute of simulated time", () => {
  it("keeps polling, reports bus-unavailable, keeps the outbox pending, then publishes everything exactly once", async () => {
    const start = Date.parse(scenario.start);
    const clock = new VirtualClock(start);
    const store = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: "busaway" });
    const origin = new URL(sim.endpoint).origin;
    const source = new ClockSyncedSource(new ProjectRunSources([{ name: "default", endpoint: `${origin}/api/projects/default`, api: "both", discovery: false }], { credential: localSimulatorCredential, ca: sim.caPem, timeoutMs: 5000 }), sim, start, clock);
    const publisher = new ServiceBusEscalationPublisher({ connectionString: broker.connectionString }, { topic: TOPIC, publishTimeoutMs: 3000 });
    const degraded: { reason: DegradedReason; at: number }[] = [];
    const events: MonitorEvents = { registered() {}, transition() {}, published() {}, degraded: (reason, _detail, at) => void degraded.push({ reason, at }) };
    const deps = chaosTrackerDeps(scenario, { store, source, publisher, clock, events });
    await store.init();

    const awayMs: number[] = [];
    let pendingWhileAway: string[] = [];
    let stopped = false;
    let restarted = false;
    try {
      for (const step of scheduleOf(scenario)) {
        const at = (step.at - start) / 1000;
        if (!stopped && at >= AWAY_FROM) {
          await broker.stop();
          stopped = true;
        }
        if (stopped && !restarted && at >= AWAY_UNTIL) {
          pendingWhileAway = (await store.listPendingOutbox()).map((o) => o.messageId);
          await broker.restart();
          restarted = true;
        }
        const began = Date.now();
        await runStep(deps, clock, step);
        if (stopped && !restarted) awayMs.push(Date.now() - began);
      }
    } finally {
      if (!restarted) await broker.restart();
      await publisher.close();
    }

    // While away: every step still ran (polls went on), none waited long on the bus, and the outbox
    // held what was decided meanwhile.
    expect(awayMs.length).toBe(2);
    expect(Math.max(...awayMs)).toBeLessThan(15_000);
    const busAway = degraded.filter((d) => d.reason === "bus-unavailable");
    expect(busAway.length).toBeGreaterThanOrEqual(2);
    expect(busAway.every((d) => d.at >= start + AWAY_FROM * 1000 && d.at < start + AWAY_UNTIL * 1000)).toBe(true);
    expect(pendingWhileAway.length).toBeGreaterThan(0);

    // After: nothing pending, the same rows as a run that never lost the bus, each message delivered once.
    const reference = await runReference(scenario);
    const expected = await recordsOf(reference.store, scenario);
    const actual = await recordsOf(store, scenario);
    expect([...actual.values()].map(seqProblems).filter(Boolean)).toEqual([]);
    for (const [runId, want] of expected) {
      const got = actual.get(runId)!;
      expect({ runId, transitions: got.transitions, outbox: got.outbox, pending: got.pendingOutbox }).toEqual({
        runId,
        transitions: want.transitions,
        outbox: Object.fromEntries(Object.keys(want.outbox).map((id) => [id, "sent"])),
        pending: [],
      });
    }
    expect(await store.listPendingOutbox()).toEqual([]);
    expect(await indexedRunIds(store, 4)).toEqual(await indexedRunIds(reference.store, 4));

    const bus = new ServiceBusClient(broker.connectionString);
    const deliveries = await drainSubscription(bus, TOPIC, "tickets").finally(() => bus.close());
    const perId = countBy(deliveries, (d) => d.messageId);
    expect([...perId].filter(([, n]) => n !== 1)).toEqual([]);
    const expectedIds = [...expected.values()].flatMap((r) => Object.keys(r.outbox)).sort();
    expect([...perId.keys()].sort()).toEqual(expectedIds);
    expect(pendingWhileAway.every((id) => perId.get(id) === 1)).toBe(true);
    console.log(`bus away ${AWAY_UNTIL - AWAY_FROM} s simulated: ${awayMs.length} sweeps without the bus (slowest ${Math.max(...awayMs)} ms), ${busAway.length} bus-unavailable signals, ${pendingWhileAway.length} escalations held in the outbox and published after; ${deliveries.length} messages delivered once each`);
  }, 120_000);
});
