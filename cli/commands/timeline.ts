import type { Command } from "commander";
import { action, addApiOptions, apiGetJson, apiTarget, CliError, formatTable, utc, type ApiOptions, type ApiTarget, type SearchPage } from "./runs.js";

// `run-monitor timeline RUN`: everything that happened to one run, in time order.

/** The run's project: the one given, or the only project that has a run with this ID. */
export async function resolveProject(target: ApiTarget, runId: string, project: string | undefined): Promise<string> {
  if (project) return project;
  const found = await apiGetJson<SearchPage>(target, "runs", { runId, limit: "20" });
  const projects = [...new Set(found.runs.map((r) => r.project))];
  if (projects.length === 0) throw new CliError(`no run ${runId} is known to the monitor`, 1);
  if (projects.length > 1) throw new CliError(`run ID ${runId} exists in projects ${projects.join(", ")}; pass --project`, 2);
  return projects[0];
}

interface TimelineBody {
  run: { project: string; api: string; runId: string; threadId: string; status?: string; agentId?: string; session?: string; owner?: string };
  events: { at: string; kind: string; summary: string; url?: string }[];
  tickets: { ticketId: string; externalId?: string; url?: string; sink?: string }[] | null;
  usage?: { promptTokens: number; completionTokens: number; totalTokens: number };
  lastError?: { code: string; message: string };
  finalMessageId?: string;
}

export function timelineText(t: TimelineBody): string {
  const r = t.run;
  const facts: [string, string | undefined][] = [
    ["Run", r.runId],
    ["Thread", r.threadId || undefined],
    ["Agent", r.agentId],
    ["Project", r.project],
    ["API", r.api],
    ["Status", r.status ?? "(not yet observed)"],
    ["Session", r.session],
    ["Owner", r.owner],
    ["Error", t.lastError ? `${t.lastError.code}: ${t.lastError.message}` : undefined],
    ["Usage", t.usage ? `${t.usage.promptTokens} prompt + ${t.usage.completionTokens} completion = ${t.usage.totalTokens} tokens` : undefined],
    ["Final message", t.finalMessageId],
  ];
  const head = facts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${(k + ":").padEnd(15)}${v}`)
    .join("\n");
  const events = formatTable(
    ["AT (UTC)", "KIND", "WHAT"],
    t.events.map((e) => [utc(e.at), e.kind, e.url ? `${e.summary} ${e.url}` : e.summary]),
  );
  const tickets =
    t.tickets === null ? "Tickets: no ticket ledger connected to the API\n" : t.tickets.length === 0 ? "Tickets: none\n" : `Tickets:\n${t.tickets.map((x) => `  ${x.externalId ?? x.ticketId}${x.sink ? ` (${x.sink})` : ""}${x.url ? ` ${x.url}` : ""}`).join("\n")}\n`;
  return `${head}\n\n${events}\n${tickets}`;
}

export function registerTimeline(program: Command): void {
  addApiOptions(
    program
      .command("timeline")
      .description("show a run's timeline: status transitions, steps, escalations, recoveries, tickets")
      .argument("<run>", "run ID (run_… or resp_…)")
      .option("--project <name>", "Foundry project (needed only when the run ID exists in several)")
      .option("--json", "the API's timeline JSON"),
  ).action(
    action(async (run: string, o: ApiOptions & { project?: string; json?: boolean }) => {
      const target = apiTarget(o);
      const project = await resolveProject(target, run, o.project);
      const body = await apiGetJson<TimelineBody>(target, `runs/${encodeURIComponent(project)}/${encodeURIComponent(run)}/timeline`);
      process.stdout.write(o.json ? JSON.stringify(body, null, 2) + "\n" : timelineText(body));
    }),
  );
}
