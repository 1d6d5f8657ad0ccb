import { Option, type Command } from "commander";
import { action, addApiOptions, apiGet, apiTarget, type ApiOptions } from "./runs.js";
import { resolveProject } from "./timeline.js";

// `run-monitor evidence RUN --format md|json`: the sanitized evidence bundle tickets carry, for a
// change record or an audit request.

export function registerEvidence(program: Command): void {
  addApiOptions(
    program
      .command("evidence")
      .description("export a run's sanitized evidence bundle (the one its ticket carries)")
      .argument("<run>", "run ID (run_… or resp_…)")
      .option("--project <name>", "Foundry project (needed only when the run ID exists in several)")
      .addOption(new Option("--format <format>", "md for people, json for tools").choices(["md", "json"]).default("md")),
  ).action(
    action(async (run: string, o: ApiOptions & { project?: string; format: "md" | "json" }) => {
      const target = apiTarget(o);
      const project = await resolveProject(target, run, o.project);
      const body = await apiGet(target, `runs/${encodeURIComponent(project)}/${encodeURIComponent(run)}/evidence`, { format: o.format });
      process.stdout.write(o.format === "json" ? JSON.stringify(JSON.parse(body) as unknown, null, 2) + "\n" : body);
    }),
  );
}
