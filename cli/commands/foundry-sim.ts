import type { Command } from "commander";

export function registerFoundrySim(program: Command): void {
  program
    .command("foundry-sim")
    .description("not built yet")
    .action(() => {
      console.error("run-monitor foundry-sim: not built yet");
      process.exit(1);
    });
}
