// DiscoverySource over one project's classic threads (`@azure/ai-agents`). Pages are read one at a
// time with `byPage().next()`: the SDK would follow a `nextLink` Foundry never sends, so the
// caller pages itself with `after`, and stops when its own bound says so.

import type { AgentsClient } from "@azure/ai-agents";
import { createAgentsClient } from "./agents-client.js";
import { readClassic } from "./classic-read.js";
import { malformedOutcome } from "./classify-outcome.js";
import { normalizeListPage, normalizeListedRun, normalizeListedThread, type DiscoverySource, type ListOutcome, type ListPage, type ListedRun, type ListedThread } from "./discovery-source.js";
import { DEFAULT_TIMEOUT_MS, type FoundrySourceOptions } from "./source-options.js";
import { MalformedBodyError } from "./wire.js";

export class ClassicDiscoverySource implements DiscoverySource {
  private readonly client: AgentsClient;
  private readonly timeoutMs: number;

  constructor(options: FoundrySourceOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = createAgentsClient(options);
  }

  async listThreads(page: { limit: number; after?: string }): Promise<ListOutcome<ListedThread>> {
    const what = "threads list";
    const read = await readClassic(what, this.timeoutMs, undefined, (o) =>
      this.client.threads.list({ order: "desc", limit: page.limit, ...(page.after ? { after: page.after } : {}), ...o }).byPage().next(),
    );
    return read.ok ? listed(what, () => normalizeListPage(read.body, what, normalizeListedThread)) : read.outcome;
  }

  async listRuns(threadId: string, limit: number): Promise<ListOutcome<ListedRun>> {
    const what = `runs of thread ${threadId}`;
    const read = await readClassic(what, this.timeoutMs, undefined, (o) => this.client.runs.list(threadId, { order: "desc", limit, ...o }).byPage().next());
    return read.ok ? listed(what, () => normalizeListPage(read.body, what, normalizeListedRun(threadId))) : read.outcome;
  }
}

function listed<T>(what: string, normalize: () => ListPage<T>): ListOutcome<T> {
  try {
    return { kind: "listed", page: normalize() };
  } catch (e) {
    if (e instanceof MalformedBodyError) return malformedOutcome(what, e);
    throw e;
  }
}
