import type { FoundryProject, Settings } from "../config/config.js";
import { FoundryRequestError, type NonObservation } from "../foundry/classify-outcome.js";
import type { DiscoverySource, ListedRun, ListedThread, ListOutcome } from "../foundry/discovery-source.js";
import { isTerminal } from "../model/run.js";
import type { DegradedReason, TrackerDeps } from "./deps.js";
import { degradedReasonOf, inPool } from "./poll-shard.js";
import { parseRegistration, registerRun } from "./register.js";

// Discovery: runs an app started but never registered still deserve a monitor. For each project with
// `discovery: true` and a classic API, list the newest threads, each thread's newest runs, and
// register every non-terminal run the store does not know. Bounded per tick (DISCOVERY_MAX_THREADS,
// DISCOVERY_LOOKBACK_MINUTES) and paced by the shared rate limiter, so discovery and polls together stay under one limit.

export interface DiscoverySettings {
  /** Threads listed per project and tick, newest first. */
  maxThreads: number;
  /** Threads created longer ago than this are not listed. */
  lookbackMs: number;
}

export const discoverySettingsOf = (s: Settings): DiscoverySettings => ({ maxThreads: s.DISCOVERY_MAX_THREADS, lookbackMs: s.DISCOVERY_LOOKBACK_MINUTES * 60_000 });

/** The API's largest page: fewest calls for the threads list. */
const THREAD_PAGE = 100;
/**
 * Runs read per thread (one page, newest first). A classic thread runs one run at a time, so an
 * active run is always among the newest; 20 is the API's default page and costs the same one call.
 */
const RUNS_PER_THREAD = 20;
/** Marks runs discovery registered, so operators can tell them from runs the app registered. */
export const DISCOVERY_TAGS = { registeredBy: "discovery" } as const;

/** What one tick did for one project (logged by the timer). */
export interface ProjectDiscovery {
  project: string;
  /** Foundry list calls made (registrations read each new run once more). */
  listCalls: number;
  threads: number;
  /** Non-terminal runs seen on those threads. */
  activeRuns: number;
  /** Run IDs registered this tick. */
  registered: string[];
  /** Active runs the store already knew (zero Foundry reads and zero writes each). */
  alreadyKnown: number;
  /** Active runs left for a later tick: gone by registration (404), IDs the store cannot key, or the project at its cap. */
  notRegistered: number;
  /** Why the pass stopped early or skipped threads; the next tick lists again. */
  trouble?: string;
}

/** Does this project take part in discovery at all (classic runs only: v2 has no thread listing of runs). */
export const discovers = (p: FoundryProject): boolean => p.discovery && p.api !== "responses";

export async function discoverRuns(
  deps: TrackerDeps,
  projects: readonly FoundryProject[],
  listerFor: (project: string) => DiscoverySource,
  settings: DiscoverySettings,
): Promise<ProjectDiscovery[]> {
  const results: ProjectDiscovery[] = [];
  for (const project of projects.filter(discovers)) results.push(await new ProjectPass(deps, project.name, listerFor(project.name), settings).run());
  return results;
}

type ListTrouble = Exclude<NonObservation, { kind: "not-found" }>;

/** One project's pass: the list calls it made, what it found, what failed. */
class ProjectPass {
  readonly summary: ProjectDiscovery;
  private readonly failures = new Map<DegradedReason, { count: number; first: string }>();

  constructor(private readonly deps: TrackerDeps, readonly project: string, private readonly lister: DiscoverySource, private readonly settings: DiscoverySettings) {
    this.summary = { project, listCalls: 0, threads: 0, activeRuns: 0, registered: [], alreadyKnown: 0, notRegistered: 0 };
  }

  async run(): Promise<ProjectDiscovery> {
    const { deps, summary } = this;
    try {
      const threads = await this.recentThreads();
      summary.threads = threads.length;
      // Once Foundry says 429 the rest of this project waits for the next tick instead of adding to the load.
      let throttled = false;
      let atCapacity = false;
      await inPool(threads, deps.settings.concurrency, async (thread) => {
        if (throttled) return;
        const runs = await this.list(() => this.lister.listRuns(thread.id, RUNS_PER_THREAD));
        if (runs.kind === "not-found") return; // deleted since it was listed
        if (runs.kind !== "listed") {
          this.fail(runs);
          throttled ||= runs.kind === "throttled";
          return;
        }
        for (const run of runs.page.items.filter((r) => !isTerminal(r.status))) {
          summary.activeRuns++;
          // Checked here, not left to registerRun: a known run then costs one Table read, no Foundry read, no write.
          const outcome = (await deps.store.getHead(this.project, run.runId)) ? "known" : atCapacity ? "skipped" : await this.register(run);
          if (outcome === "registered") summary.registered.push(run.runId);
          else if (outcome === "known") summary.alreadyKnown++;
          else summary.notRegistered++;
          atCapacity ||= outcome === "over-capacity";
        }
      });
      if (throttled) summary.trouble ??= "throttled: the remaining threads wait for the next tick";
    } catch (e) {
      // 400/401/403: the identity's role or the endpoint is wrong. Other projects still get their pass.
      if (!(e instanceof FoundryRequestError)) throw e;
      summary.trouble = e.message;
    }
    const now = deps.clock.now();
    for (const [reason, f] of this.failures) {
      deps.events.degraded(reason, `discovery of project ${this.project}: ${f.count} of ${summary.listCalls} Foundry list calls failed (first: ${f.first}); the next tick lists again`, now, [this.project]);
    }
    return summary;
  }

  /** The project's threads created within the lookback window, newest first, at most maxThreads. */
  private async recentThreads(): Promise<ListedThread[]> {
    const { maxThreads, lookbackMs } = this.settings;
    const cutoff = this.deps.clock.now() - lookbackMs;
    const threads: ListedThread[] = [];
    let after: string | undefined;
    while (threads.length < maxThreads) {
      const answer = await this.list(() => this.lister.listThreads({ limit: Math.min(THREAD_PAGE, maxThreads - threads.length), after }));
      if (answer.kind === "not-found") {
        this.summary.trouble = "threads list: Foundry answered 404 (is the endpoint a project endpoint, …/api/projects/NAME?)";
        break;
      }
      if (answer.kind !== "listed") {
        this.fail(answer);
        this.summary.trouble = "threads list failed: threads listed so far are read, the rest next tick";
        break;
      }
      const { items, hasMore, lastId } = answer.page;
      const recent = items.filter((t) => t.createdAt >= cutoff);
      threads.push(...recent.slice(0, maxThreads - threads.length));
      // Newest first: the first thread older than the window ends the walk.
      if (recent.length < items.length || !hasMore || !lastId) break;
      after = lastId;
    }
    return threads;
  }

  /** Through the normal path: validated, idempotent on project + runId, reads the run once. */
  private async register(run: ListedRun): Promise<"registered" | "known" | "skipped" | "over-capacity"> {
    const request = parseRegistration({ project: this.project, api: "classic", runId: run.runId, threadId: run.threadId, ...(run.agentId ? { agentId: run.agentId } : {}), tags: { ...DISCOVERY_TAGS } });
    if (!request.ok) return "skipped";
    const result = await registerRun(this.deps, request.value);
    if (result.kind === "registered") return "registered";
    if (result.kind === "exists") return "known";
    if (result.kind === "over-capacity") {
      this.summary.trouble = result.problems.join("; ");
      return "over-capacity";
    }
    return "skipped";
  }

  /** Every list call waits for the shared rate limiter, like a poll. */
  private async list<T>(call: () => Promise<ListOutcome<T>>): Promise<ListOutcome<T>> {
    await this.deps.limiter.acquire();
    this.summary.listCalls++;
    return call();
  }

  private fail(outcome: ListTrouble): void {
    const reason = degradedReasonOf(outcome);
    const f = this.failures.get(reason) ?? { count: 0, first: outcome.kind === "transient" ? outcome.detail : `throttled, retry after ${outcome.retryAfterMs} ms` };
    f.count++;
    this.failures.set(reason, f);
  }
}
