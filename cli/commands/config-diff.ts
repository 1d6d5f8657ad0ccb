import fs from "node:fs";
import type { Command } from "commander";
import { ensureError, InputError } from "../../shared/errors.js";
import { diffSettings, parseSettingsText, renderDrift, type ParsedSettings } from "../../shared/doctor/config-diff.js";

// `run-monitor config diff A B`: drift between two environments' settings. Exit 0 no drift, 1 drift, 2 bad input.

function readSettingsFile(file: string): ParsedSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`${file}: cannot read the file (${(ensureError(e) as NodeJS.ErrnoException).code ?? ensureError(e).message})`);
  }
  return parseSettingsText(text, file);
}

export function registerConfigDiff(program: Command): void {
  const config = program.commands.find((c) => c.name() === "config") ?? program.command("config").description("work with the app's settings");
  config
    .command("diff")
    .description("show drift between two settings files (local.settings.json, flat JSON, az appsettings list output or azd .env); secrets are masked")
    .argument("<a>", "settings of the first environment (e.g. test)")
    .argument("<b>", "settings of the second environment (e.g. prod)")
    .option("--json", "print the drift as JSON")
    .option("--ignore <names>", "comma-separated settings to leave out (e.g. WEBSITE_CONTENTSHARE)")
    .action((a: string, b: string, o: { json?: boolean; ignore?: string }) => {
      let drift;
      try {
        const ignore = o.ignore ? o.ignore.split(",").map((s) => s.trim()).filter(Boolean) : [];
        drift = diffSettings(readSettingsFile(a).values, readSettingsFile(b).values, { ignore });
      } catch (e) {
        process.stderr.write(`run-monitor config diff: ${ensureError(e).message}\n`);
        process.exit(2);
      }
      if (o.json) process.stdout.write(JSON.stringify({ a, b, drift }, null, 2) + "\n");
      else process.stdout.write(renderDrift(drift, a, b).join("\n") + "\n");
      process.exit(drift.length ? 1 : 0);
    });
}
