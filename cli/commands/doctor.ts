import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ConfigError, loadSettings, type Settings } from "../../shared/config/config.js";
import { ensureError, InputError } from "../../shared/errors.js";
import { parseSettingsText } from "../../shared/doctor/config-diff.js";
import { probeFoundry, probeQueues, probeServiceBus, probeTables, type ProbeOptions } from "../../shared/doctor/probes.js";
import { evidenceOf, exitCodeOf, failed, passed, renderTable, type CheckOutcome } from "../../shared/doctor/report.js";

// `run-monitor doctor`: read-only checks of a deployment from its settings, before trusting it (or
// for the change record after deploying it). Exit 0 all passed, 1 something failed, 2 bad config.

interface DoctorOptions {
  settings?: string;
  json?: boolean;
  ca?: string;
  timeoutMs: string;
}

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      const p = JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string; version?: string };
      if (p.name === "foundry-run-monitor") return p.version ?? "0.0.0";
    }
    const up = path.dirname(dir);
    if (up === dir) return "0.0.0";
    dir = up;
  }
}

/** The settings to check: a file (local.settings.json, flat JSON, az appsettings list, azd .env) or this process's environment. */
export function readSettingsSource(file: string | undefined): { env: Record<string, string | undefined>; source: string } {
  if (!file) return { env: process.env, source: "process.env" };
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`--settings ${file}: cannot read the file (${(ensureError(e) as NodeJS.ErrnoException).code ?? ensureError(e).message})`);
  }
  return { env: parseSettingsText(text, file).values, source: path.resolve(file) };
}

export async function runDoctor(settings: Settings, options: ProbeOptions): Promise<CheckOutcome[]> {
  const [foundry, tables, queues, bus] = await Promise.all([
    probeFoundry(settings.FOUNDRY_PROJECTS, settings, options),
    probeTables(settings, options),
    probeQueues(settings, options),
    probeServiceBus(settings, options),
  ]);
  return [...foundry, ...tables, ...queues, ...bus];
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("read-only checks of a deployment: configuration, Foundry projects, Tables, Queues, Service Bus topic and subscriptions")
    .option("--settings <file>", "settings to check (local.settings.json, flat JSON, az appsettings list output or azd .env); default: this process's environment")
    .option("--json", "print JSON evidence for a change record instead of the table")
    .option("--ca <pem>", "certificate to trust for Foundry (the local simulator's, e.g. .run-monitor/foundry-sim-ca.pem)")
    .option("--timeout-ms <ms>", "upper bound on each probe", "15000")
    .action(async (o: DoctorOptions) => {
      const at = new Date();
      let env: Record<string, string | undefined>;
      let source: string;
      let settings: Settings;
      let options: ProbeOptions;
      const configTitle = "Configuration";
      try {
        ({ env, source } = readSettingsSource(o.settings));
        const timeoutMs = Number(o.timeoutMs);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) throw new InputError(`--timeout-ms: expected an integer between 100 and 120000, got ${JSON.stringify(o.timeoutMs)}`);
        let foundryCa: string | undefined;
        if (o.ca) {
          try {
            foundryCa = fs.readFileSync(o.ca, "utf8");
          } catch (e) {
            throw new InputError(`--ca ${o.ca}: cannot read the certificate (${(ensureError(e) as NodeJS.ErrnoException).code ?? ensureError(e).message})`);
          }
        }
        options = { foundryCa, env: { ...process.env, ...env }, timeoutMs };
      } catch (e) {
        process.stderr.write(`run-monitor doctor: ${ensureError(e).message}\n`);
        process.exit(2);
      }
      try {
        settings = loadSettings(env);
      } catch (e) {
        const err = ensureError(e);
        const problems = err instanceof ConfigError ? err.problems : [err.message];
        if (o.json) {
          const evidence = evidenceOf({ version: packageVersion(), at, settingsSource: source, env, checks: [failed("config", configTitle, problems.join("; "))] });
          process.stdout.write(JSON.stringify(evidence, null, 2) + "\n");
        }
        process.stderr.write(`run-monitor doctor: ${err instanceof ConfigError ? err.message : `invalid configuration: ${err.message}`}\n`);
        process.exit(2);
      }
      const checks = [passed("config", configTitle, `valid (${Object.keys(env).filter((k) => env[k] !== undefined).length} settings read from ${source === "process.env" ? "the environment" : path.basename(source)}; ${settings.FOUNDRY_PROJECTS.length} Foundry project${settings.FOUNDRY_PROJECTS.length === 1 ? "" : "s"})`)];
      checks.push(...(await runDoctor(settings, options)));
      if (o.json) process.stdout.write(JSON.stringify(evidenceOf({ version: packageVersion(), at, settingsSource: source, env, checks }), null, 2) + "\n");
      else process.stdout.write(renderTable(checks, process.stdout.columns || 120).join("\n") + "\n");
      process.exit(exitCodeOf(checks));
    });
}
