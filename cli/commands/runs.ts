import type { Command } from "commander";

// `run-monitor runs search`: the API's search over HTTP, a table for people and --json for
// scripts. The HTTP client and output helpers here are shared with `timeline` and `evidence`.

export const DEFAULT_API = "http://127.0.0.1:7070";
const TIMEOUT_MS = 30_000;

/** Exit 1: something failed while running (API unreachable, denied, not found). Exit 2: bad input. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
    this.name = "CliError";
  }
}

export interface ApiTarget {
  base: string;
  key?: string;
}

export interface ApiOptions {
  api?: string;
  key?: string;
}

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option("--api <url>", `the monitor's API (env RUN_MONITOR_API, default ${DEFAULT_API})`)
    .option("--key <key>", "function key sent as x-functions-key (env RUN_MONITOR_KEY)");
}

export function apiTarget(opts: ApiOptions, env: Record<string, string | undefined> = process.env): ApiTarget {
  const raw = opts.api ?? env.RUN_MONITOR_API ?? DEFAULT_API;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--api: expected an http(s) URL such as ${DEFAULT_API}, got ${JSON.stringify(raw)}`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`--api: expected an http(s) URL, got ${JSON.stringify(raw)}`, 2);
  const key = opts.key ?? env.RUN_MONITOR_KEY;
  return { base: url.toString().replace(/\/+$/, ""), key: key || undefined };
}

interface ErrorBody {
  error?: { code?: string; message?: string; problems?: string[] };
}

/** GET an API path; answers the body text. Maps every failure to a CliError with one clear line. */
export async function apiGet(target: ApiTarget, path: string, params: Record<string, string | undefined> = {}): Promise<string> {
  const url = new URL(`${target.base}/api/${path}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: "application/json, text/markdown", ...(target.key ? { "x-functions-key": target.key } : {}) }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const c = (e as { cause?: { code?: string; message?: string } }).cause;
    const cause = (e as Error).name === "TimeoutError" ? `no answer in ${TIMEOUT_MS / 1000} s` : (c?.code ?? c?.message ?? (e as Error).message);
    throw new CliError(`cannot reach the run-monitor API at ${target.base} (${cause}); start it with \`npm start\` or pass --api / RUN_MONITOR_API`, 1);
  }
  const text = await res.text();
  if (res.ok) return text;
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // the host's own 401 for a missing function key has an empty body
  }
  const problems = body.error?.problems ?? [];
  const message = body.error?.message ?? `HTTP ${res.status}`;
  if (res.status === 400) throw new CliError(problems.length > 1 ? `bad request: ${problems.join("; ")}` : `bad request: ${message}`, 2);
  if (res.status === 401) throw new CliError(`the API refused the call (401): ${message}; pass a function key with --key or RUN_MONITOR_KEY`, 1);
  if (res.status === 403) throw new CliError(`the API refused the call (403): ${message}`, 1);
  if (res.status === 404) throw new CliError(message, 1);
  throw new CliError(`the API answered ${res.status}: ${message}`, 1);
}

export async function apiGetJson<T>(target: ApiTarget, path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const text = await apiGet(target, path, params);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`the API at ${target.base} answered something that is not JSON; is --api pointing at the monitor?`, 1);
  }
}

/** Wraps a command action: CliErrors become one line on stderr and their exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = e instanceof CliError ? e : new CliError(e instanceof Error ? e.message : String(e), 1);
      process.stderr.write(`run-monitor: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

/** `2026-03-02T09:00:05.000Z` → `2026-03-02 09:00:05`. */
export const utc = (iso: string | undefined): string => (iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "") : "—");

/** A plain text table with padded columns; the last column is not padded. */
export function formatTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `24h`, `7d` → milliseconds. */
export function parseSince(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new CliError(`--since: expected a duration such as 30m, 24h or 7d, got ${JSON.stringify(text)}`, 2);
  return Number(m[1]) * UNITS[m[2]];
}

export interface RunRow {
  project: string;
  runId: string;
  threadId: string;
  status?: string;
  agentId?: string;
  registeredAt: string;
  reasons: string[];
}

export interface SearchPage {
  runs: RunRow[];
  continuationToken?: string;
}

interface SearchOptions extends ApiOptions {
  runId?: string;
  thread?: string;
  session?: string;
  agent?: string;
  owner?: string;
  project?: string;
  status?: string;
  reason?: string;
  since?: string;
  from?: string;
  to?: string;
  limit?: string;
  continuation?: string;
  all?: boolean;
  json?: boolean;
}

/** At most this many runs with --all: a bigger export belongs to the Table itself. */
const ALL_CAP = 10_000;

export function searchParams(o: SearchOptions, now: number): Record<string, string | undefined> {
  if (o.since !== undefined && o.from !== undefined) throw new CliError("--since and --from both set a start time; pass one", 2);
  if (o.all && o.continuation) throw new CliError("--all starts from the first page; drop --continuation", 2);
  return {
    runId: o.runId,
    threadId: o.thread,
    session: o.session,
    agentId: o.agent,
    owner: o.owner,
    project: o.project,
    status: o.status,
    reason: o.reason,
    from: o.since !== undefined ? new Date(now - parseSince(o.since)).toISOString() : o.from,
    to: o.to,
    limit: o.all ? "200" : o.limit,
    continuationToken: o.continuation,
  };
}

export function runsTable(runs: RunRow[]): string {
  return formatTable(
    ["STATUS", "RUN", "THREAD", "AGENT", "PROJECT", "REGISTERED (UTC)", "ESCALATIONS"],
    runs.map((r) => [r.status ?? "(not seen)", r.runId, r.threadId || "—", r.agentId ?? "—", r.project, utc(r.registeredAt), r.reasons.join(",") || "—"]),
  );
}

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("find runs the monitor knows");
  addApiOptions(
    runs
      .command("search")
      .description("search runs by ID or filter, newest first")
      .option("--run-id <id>", "run ID (run_… or resp_…)")
      .option("--thread <id>", "thread or conversation ID (thread_… or conv_…)")
      .option("--session <id>", "session / correlation ID the caller registered")
      .option("--agent <id>", "agent ID (asst_…)")
      .option("--owner <owner>", "owner tag the caller registered")
      .option("--project <name>", "Foundry project name")
      .option("--status <status>", "current status (queued, in_progress, requires_action, cancelling, cancelled, failed, completed, expired, incomplete)")
      .option("--reason <reason>", "escalation reason (failed, stalled-in-progress, …)")
      .option("--since <duration>", "registered within this long, e.g. 30m, 24h, 7d")
      .option("--from <iso>", "registered at or after this ISO time")
      .option("--to <iso>", "registered at or before this ISO time")
      .option("--limit <n>", "runs per page, 1–200 (default 50)")
      .option("--continuation <token>", "continue a previous search from its token")
      .option("--all", `follow continuation tokens (at most ${ALL_CAP} runs)`)
      .option("--json", "JSON for scripts: {runs, continuationToken?}"),
  ).action(
    action(async (o: SearchOptions) => {
      const target = apiTarget(o);
      const params = searchParams(o, Date.now());
      let page = await apiGetJson<SearchPage>(target, "runs", params);
      const all = [...page.runs];
      while (o.all && page.continuationToken && all.length < ALL_CAP) {
        page = await apiGetJson<SearchPage>(target, "runs", { ...params, continuationToken: page.continuationToken });
        all.push(...page.runs);
      }
      const token = page.continuationToken;
      if (o.json) {
        process.stdout.write(JSON.stringify(token ? { runs: all, continuationToken: token } : { runs: all }, null, 2) + "\n");
        return;
      }
      if (all.length === 0) {
        process.stderr.write("no runs match\n");
        return;
      }
      process.stdout.write(runsTable(all));
      if (token) process.stderr.write(`more runs match: add --continuation ${token} (or --all)\n`);
    }),
  );
}
