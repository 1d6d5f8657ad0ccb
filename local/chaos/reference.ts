// What an uninterrupted monitor does with a scenario's schedule: the same steps in one process on
// the in-memory stack. The crash test compares what the killed-and-restarted monitor left in
// Azurite and on the broker against this.
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import type { MonitorEvents } from "../../shared/tracking/deps.js";
import { createSimulation } from "../foundry-sim/index.js";
import { MemoryEscalationTopic } from "../memory-bus.js";
import type { Scenario } from "../scenario/schema.js";
import { InProcessRunSource } from "../simulate/in-process-source.js";
import { chaosTrackerDeps, runStep, scheduleOf } from "./schedule.js";

export interface ReferenceRun {
  store: MemoryRunStore;
  topic: MemoryEscalationTopic;
}

export async function runReference(scenario: Scenario, options: { seed?: number; events?: MonitorEvents; concurrency?: number } = {}): Promise<ReferenceRun> {
  const start = Date.parse(scenario.start);
  const clock = new VirtualClock(start);
  const store = new MemoryRunStore();
  const topic = new MemoryEscalationTopic(["tickets"]);
  const source = new InProcessRunSource(createSimulation(scenario, { seed: options.seed ?? 1 }), start, () => clock.now());
  const deps = chaosTrackerDeps(scenario, { store, source, publisher: topic, clock, events: options.events, concurrency: options.concurrency });
  await store.init();
  for (const step of scheduleOf(scenario)) await runStep(deps, clock, step);
  return { store, topic };
}
