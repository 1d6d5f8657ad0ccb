import type { Command } from "commander";
import type { ToolInsight, TrendDay, UsageRow } from "../../shared/insights/report.js";
import { action, addApiOptions, apiGetJson, apiTarget, CliError, formatTable, type ApiOptions } from "./runs.js";

// `run-monitor insights tools|trends|usage [--since 24h] [--project P] [--agent A] [--json]`:
// the API's daily insight buckets, as a table for people and JSON for scripts.

interface InsightsOptions extends ApiOptions {
  since?: string;
  project?: string;
  agent?: string;
  json?: boolean;
}

const SINCE = /^\d{1,5}[mhd]$/;
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}s` : `${n}ms`);

export function toolsText(body: { window: { from: string; to: string }; tools: ToolInsight[] }): string {
  const rows = body.tools.map((t) => [t.project, t.agentId, t.tool, String(t.calls), pct(t.failureRate), ms(t.p50Ms), ms(t.p95Ms), ms(t.p99Ms), t.slowest[0] ? `${t.slowest[0].runId} (${ms(t.slowest[0].durationMs)})` : "—"]);
  return `Tool calls ${body.window.from} … ${body.window.to} (UTC days)\n` + formatTable(["PROJECT", "AGENT", "TOOL", "CALLS", "FAILED", "P50", "P95", "P99", "SLOWEST RUN"], rows);
}

export function trendsText(body: { window: { from: string; to: string }; days: TrendDay[] }): string {
  const rows = body.days.map((d) => [d.day, d.project, d.agentId, String(d.runs), pct(d.failureRate), pct(d.expiryRate), pct(d.stallRate), d.failureRateTarget === undefined ? "—" : `${pct(d.failureRateTarget)}${d.overTarget ? " OVER" : " ok"}`]);
  return `Run outcomes ${body.window.from} … ${body.window.to}\n` + formatTable(["DAY", "PROJECT", "AGENT", "RUNS", "FAILED", "EXPIRED", "STALLED", "TARGET"], rows);
}

export function usageText(body: { window: { from: string; to: string }; rows: UsageRow[]; totals: Omit<UsageRow, "day" | "project" | "agentId" | "model"> }): string {
  const cost = (c: number | undefined) => (c === undefined ? "—" : c.toFixed(4));
  const rows = body.rows.map((r) => [r.day, r.project, r.agentId, r.model, String(r.runs), String(r.promptTokens), String(r.completionTokens), String(r.totalTokens), cost(r.estimatedCost)]);
  rows.push(["total", "", "", "", String(body.totals.runs), String(body.totals.promptTokens), String(body.totals.completionTokens), String(body.totals.totalTokens), cost(body.totals.estimatedCost)]);
  return `Token usage ${body.window.from} … ${body.window.to}\n` + formatTable(["DAY", "PROJECT", "AGENT", "MODEL", "RUNS", "PROMPT", "COMPLETION", "TOTAL", "EST. COST"], rows);
}

export function registerInsights(program: Command): void {
  const insights = program.command("insights").description("tool-call latency and failures, run failure trends, token usage and cost (daily, from the monitor's own data)");
  const views = [
    { name: "tools", description: "per agent and tool: calls, failure rate, p50/p95/p99 duration, slowest runs", since: "24h", text: toolsText },
    { name: "trends", description: "per agent and project and day: runs, failure/expiry/stall rates against the policy target", since: "7d", text: trendsText },
    { name: "usage", description: "per agent, model and day: tokens, and an estimated cost when the policy has a price table", since: "7d", text: usageText },
  ] as const;
  for (const v of views) {
    addApiOptions(
      insights
        .command(v.name)
        .description(v.description)
        .option("--since <duration>", `window, e.g. 24h, 7d (whole UTC days; default ${v.since})`)
        .option("--project <name>", "only this Foundry project")
        .option("--agent <id>", "only this agent")
        .option("--json", "the API's JSON"),
    ).action(
      action(async (o: InsightsOptions) => {
        const since = o.since ?? v.since;
        if (!SINCE.test(since) || /^0+[mhd]$/.test(since)) throw new CliError(`--since: expected a duration such as 24h, 7d or 90m, got ${JSON.stringify(since)}`, 2);
        const body = await apiGetJson<never>(apiTarget(o), `insights/${v.name}`, { since, project: o.project, agentId: o.agent });
        process.stdout.write(o.json ? JSON.stringify(body, null, 2) + "\n" : v.text(body));
      }),
    );
  }
}
