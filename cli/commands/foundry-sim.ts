import type { Command } from "commander";
import { InputError, ensureError } from "../../shared/errors.js";
import { loadScenario } from "../../local/scenario/schema.js";
import type { ClockMode } from "../../local/foundry-sim/server.js";
import { startFoundrySimulator } from "../../local/foundry-sim/server.js";

interface FoundrySimOptions {
  scenario: string;
  port?: string;
  clock: string;
  project?: string;
  seed?: string;
  timeoutHoldMs?: string;
}

// stdout carries exactly one line (the announcement) so a parent can read it; everything else goes to stderr.
export function registerFoundrySim(program: Command): void {
  program
    .command("foundry-sim")
    .description("Serve a scenario's Foundry runs over HTTPS on 127.0.0.1 (classic threads/runs and v2 responses)")
    .requiredOption("--scenario <file>", "scenario JSON file")
    .option("--port <n>", "port to listen on (0 = any free port)", "0")
    .option("--clock <mode>", "real (scenario second 0 = start) or manual (POST {control}/clock)", "real")
    .option("--project <name>", "project name in the endpoint (default: the scenario's first project, else 'default')")
    .option("--seed <n>", "seed of the fault draws (the same seed replays the same faults)", "1")
    .option("--timeout-hold-ms <ms>", "how long a timeout fault holds a request (default 120000 real clock, 1000 manual; env FOUNDRY_SIM_TIMEOUT_HOLD_MS)")
    .action(async (opts: FoundrySimOptions) => {
      try {
        const sim = await start(opts);
        process.stdout.write(JSON.stringify({ endpoint: sim.endpoint, ca: sim.ca, control: sim.control }) + "\n");
        const stop = () => {
          sim.close().then(
            () => process.exit(0),
            () => process.exit(0),
          );
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      } catch (e) {
        const err = ensureError(e);
        console.error(`run-monitor foundry-sim: ${err.message}`);
        process.exit(err instanceof InputError ? 2 : 1);
      }
    });
}

async function start(opts: FoundrySimOptions) {
  const clock = opts.clock as ClockMode;
  if (clock !== "real" && clock !== "manual") throw new InputError(`--clock: expected real or manual, got ${JSON.stringify(opts.clock)}`);
  const port = integer("--port", opts.port ?? "0", 0, 65535);
  const seed = integer("--seed", opts.seed ?? "1", 0, 2 ** 31 - 1);
  const timeoutHoldMs = opts.timeoutHoldMs === undefined ? envHold() : integer("--timeout-hold-ms", opts.timeoutHoldMs, 0, 600000);
  if (opts.project !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(opts.project)) {
    throw new InputError(`--project: expected a short name (letters, digits, _ . -), got ${JSON.stringify(opts.project)}`);
  }
  const scenario = loadScenario(opts.scenario);
  return startFoundrySimulator({ scenario, port, clock, project: opts.project, seed, timeoutHoldMs, log: (l) => console.error(l) });
}

function envHold(): number | undefined {
  const v = process.env.FOUNDRY_SIM_TIMEOUT_HOLD_MS;
  return v ? integer("FOUNDRY_SIM_TIMEOUT_HOLD_MS", v, 0, 600000) : undefined;
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`${name}: expected an integer between ${min} and ${max}, got ${JSON.stringify(text)}`);
  return n;
}
