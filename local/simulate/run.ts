import fs from "node:fs";
import { loadScenario, type Scenario } from "../scenario/schema.js";
import { createSimulation } from "../foundry-sim/index.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import { MemoryEscalationTopic } from "../memory-bus.js";
import { runScenario, type ScenarioForEngine } from "./engine.js";
import { EventLog, type SimEvent } from "./events.js";
import { InProcessRunSource } from "./in-process-source.js";
import { progressBar } from "../../cli/progress.js";
import { MemoryTicketLedger } from "../../shared/tickets/ledger.js";
import { handleEscalationMessage, type TicketDeps } from "../../shared/tickets/open-ticket.js";
import type { TicketSink } from "../../shared/tickets/sinks/types.js";
import { MemoryTicketSink } from "../memory-sink.js";

/** Ticket handling as a scenario configures it: metadata-only evidence, optional storm grouping. */
export function ticketDepsFor(scenario: Scenario, parts: Omit<TicketDeps, "sinksFor" | "evidencePolicy" | "grouping" | "links"> & { sinks: TicketSink[] }): TicketDeps {
  return {
    ...parts,
    sinksFor: () => parts.sinks,
    evidencePolicy: {},
    grouping: scenario.tickets,
    links: (head) => ({ dashboard: `http://127.0.0.1:7070/#/runs/${encodeURIComponent(head.ref.project)}/${encodeURIComponent(head.ref.runId)}` }),
  };
}

export interface SimulateOptions {
  scenarioPath: string;
  outPath: string;
  stack: "memory" | "local";
  seed: number;
  progress: boolean;
}

/** Runs a scenario on the chosen stack and writes the events file; returns a one-line summary. */
export async function simulateToFile(opts: SimulateOptions): Promise<string> {
  const scenario = loadScenario(opts.scenarioPath);
  const events = opts.stack === "memory" ? await simulateInMemory(scenario, opts) : await (await import("./local-stack.js")).simulateOnLocalStack(scenario, opts);
  fs.writeFileSync(opts.outPath, events.map((e) => JSON.stringify(e)).join("\n") + (events.length ? "\n" : ""));
  const count = (t: string) => events.filter((e) => e.type === t).length;
  return `${scenario.name}: ${count("registered")} runs, ${count("transition")} transitions, ${count("escalation")} escalations, ${count("ticket")} tickets, ${count("monitor-degraded")} degraded signals → ${opts.outPath}`;
}

export async function simulateInMemory(scenario: Scenario, opts: Pick<SimulateOptions, "seed" | "progress">): Promise<SimEvent[]> {
  const start = Date.parse(scenario.start);
  const clock = new VirtualClock(start);
  const sim = createSimulation(scenario, { seed: opts.seed });
  const log = new EventLog();
  const store = new MemoryRunStore();
  const topic = new MemoryEscalationTopic(["tickets"]);
  const source = new InProcessRunSource(sim, start, () => clock.now());
  const sink = new MemoryTicketSink();
  const tickets = ticketDepsFor(scenario, { store, ledger: new MemoryTicketLedger(), source, sinks: [sink], now: () => clock.now(), onTicket: log.ticket });
  const bar = opts.progress ? progressBar(`simulate ${scenario.name}`, scenario.duration, "s") : undefined;
  await runScenario(scenario as unknown as ScenarioForEngine, {
    store,
    source,
    publisher: topic,
    events: log,
    clock,
    afterStep: async () => {
      for (const item of topic.drain("tickets")) await handleEscalationMessage(tickets, item);
    },
    onProgress: (done) => bar?.update(done),
  });
  bar?.stop();
  return log.sorted();
}
