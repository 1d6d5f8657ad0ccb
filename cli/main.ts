#!/usr/bin/env node
import { Command } from "commander";

type Register = (program: Command) => void;

// Each command's module is loaded only when that command runs (all of them for --help): some pull
// in the Azure SDKs or the whole monitor, and `sanitize` in a pipeline should not pay for that.
const COMMANDS: Record<string, () => Promise<Register>> = {
  simulate: async () => (await import("./commands/simulate.js")).registerSimulate,
  "foundry-sim": async () => (await import("./commands/foundry-sim.js")).registerFoundrySim,
  sanitize: async () => (await import("./commands/sanitize.js")).registerSanitize,
  runs: async () => (await import("./commands/runs.js")).registerRuns,
  timeline: async () => (await import("./commands/timeline.js")).registerTimeline,
  evidence: async () => (await import("./commands/evidence.js")).registerEvidence,
  dlq: async () => (await import("./commands/dlq.js")).registerDlq,
  doctor: async () => (await import("./commands/doctor.js")).registerDoctor,
  config: async () => (await import("./commands/config-diff.js")).registerConfigDiff,
  insights: async () => (await import("./commands/insights.js")).registerInsights,
  bench: async () => (await import("./commands/bench.js")).registerBench,
};

// Exit codes: 0 done, 1 failure while running, 2 bad input (arguments, scenario, config).
const program = new Command()
  .name("run-monitor")
  .description("foundry-run-monitor: watch Microsoft Foundry agent runs, detect stalls and failures, open sanitized tickets")
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

const requested = process.argv[2];
const wanted = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of wanted) (await COMMANDS[name]())(program);

await program.parseAsync(process.argv);
