#!/usr/bin/env node
import { Command } from "commander";
import { registerSimulate } from "./commands/simulate.js";
import { registerFoundrySim } from "./commands/foundry-sim.js";
import { registerSanitize } from "./commands/sanitize.js";
import { registerRuns } from "./commands/runs.js";
import { registerTimeline } from "./commands/timeline.js";
import { registerEvidence } from "./commands/evidence.js";
import { registerDlq } from "./commands/dlq.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerConfigDiff } from "./commands/config-diff.js";
import { registerInsights } from "./commands/insights.js";
import { registerBench } from "./commands/bench.js";

// Exit codes: 0 done, 1 failure while running, 2 bad input (arguments, scenario, config).
const program = new Command()
  .name("run-monitor")
  .description("foundry-run-monitor: watch Microsoft Foundry agent runs, detect stalls and failures, open sanitized tickets")
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerSimulate(program);
registerFoundrySim(program);
registerSanitize(program);
registerRuns(program);
registerTimeline(program);
registerEvidence(program);
registerDlq(program);
registerDoctor(program);
registerConfigDiff(program);
registerInsights(program);
registerBench(program);

await program.parseAsync(process.argv);
