import type { Command } from "commander";
import { InputError } from "../../shared/errors.js";
import { simulateToFile } from "../../local/simulate/run.js";

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("run the whole monitor against a scenario on a virtual clock and write what it did as JSON Lines")
    .requiredOption("--scenario <file>", "scenario JSON file (see docs/scenarios.md)")
    .requiredOption("--out <file>", "events file to write (JSON Lines)")
    .option("--stack <stack>", "memory (in-process stores, bus and simulator) or local (Azurite, the AMQP broker and the HTTPS simulator)", "memory")
    .option("--seed <n>", "seed for the simulator's fault dice", "1")
    .option("--quiet", "no progress bar")
    .action(async (opts: { scenario: string; out: string; stack: string; seed: string; quiet?: boolean }) => {
      try {
        if (opts.stack !== "memory" && opts.stack !== "local") throw new InputError(`--stack: expected memory or local, got ${JSON.stringify(opts.stack)}`);
        const seed = Number(opts.seed);
        if (!Number.isInteger(seed)) throw new InputError(`--seed: expected an integer, got ${JSON.stringify(opts.seed)}`);
        const summary = await simulateToFile({ scenarioPath: opts.scenario, outPath: opts.out, stack: opts.stack, seed, progress: !opts.quiet && process.stderr.isTTY });
        process.stderr.write(`${summary}\n`);
        // The local stack's SDK clients can keep sockets in their reconnect timers for a while;
        // everything is written and closed, so leave now rather than wait for them.
        process.exit(0);
      } catch (e) {
        if (e instanceof InputError) {
          process.stderr.write(`run-monitor simulate: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
    });
}
