import type { Command } from "commander";

export function registerSanitize(program: Command): void {
  program
    .command("sanitize")
    .description("not built yet")
    .action(() => {
      console.error("run-monitor sanitize: not built yet");
      process.exit(1);
    });
}
