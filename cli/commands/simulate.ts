import type { Command } from "commander";

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("not built yet")
    .action(() => {
      console.error("run-monitor simulate: not built yet");
      process.exit(1);
    });
}
