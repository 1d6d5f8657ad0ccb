import type { OutboxItem } from "../store/types.js";
import type { TrackerDeps } from "./deps.js";

export interface PublishSummary {
  sent: number;
  failed: number;
  pending: number;
}

/**
 * Drains the outbox: sends pending rows to the escalation topic, then marks them sent. A crash
 * after sending and before marking re-sends the same messageId, which the topic's duplicate
 * detection drops — so a message is never lost and never delivered twice.
 */
export async function publishOutbox(deps: TrackerDeps, scope: { limit?: number; only?: OutboxItem[] } = {}): Promise<PublishSummary> {
  // A writer publishes just what it wrote (`only`): poll-shard passes run side by side, and each
  // publishing every pending row would send and report the other's escalations too. Leftovers of a
  // crash or an unreachable bus are the publish-outbox timer's (no `only`).
  const items = scope.only ?? (await deps.store.listPendingOutbox(scope.limit ?? 500));
  const oldest = items.reduce((min, i) => Math.min(min, i.at), Infinity);
  // Depth is the whole outbox's: only a full drain (not a writer's own rows) can tell it.
  if (!scope.only) deps.metrics?.outbox(items.length, items.length ? Math.max(0, (deps.clock.now() - oldest) / 1000) : 0);
  if (items.length === 0) return { sent: 0, failed: 0, pending: 0 };
  const ready = await remediateFirst(deps, items);
  const result = ready.length ? await deps.publisher.publish(ready) : { sent: [], failed: [] };
  const sent = new Set(result.sent);
  const byRun = new Map<string, { project: string; runId: string; ids: string[] }>();
  for (const item of items) {
    if (!sent.has(item.messageId)) continue;
    const key = `${item.ref.project}|${item.ref.runId}`;
    const group = byRun.get(key) ?? { project: item.ref.project, runId: item.ref.runId, ids: [] };
    group.ids.push(item.messageId);
    byRun.set(key, group);
  }
  for (const g of byRun.values()) await deps.store.markPublished(g.project, g.runId, g.ids);
  const now = deps.clock.now();
  for (const item of ready) if (sent.has(item.messageId)) deps.events.published(item, now);
  if (result.failed.length > 0) {
    deps.events.degraded("bus-unavailable", `${result.failed.length} of ${items.length} escalations not published yet: ${result.failed[0].error}`, now, [...new Set(items.filter((i) => !sent.has(i.messageId)).map((i) => i.ref.project))].sort());
  }
  return { sent: sent.size, failed: result.failed.length, pending: items.length - sent.size };
}

/**
 * Opt-in remediation runs before its escalation is sent, so the message (and the ticket) carries
 * the outcome. A row whose action another executor holds stays pending for a later pass; a row
 * whose remediation cannot be tried now (ledger unreachable) stays pending too, so the action is
 * neither lost nor skipped.
 */
async function remediateFirst(deps: TrackerDeps, items: OutboxItem[]): Promise<OutboxItem[]> {
  const remediate = deps.remediate;
  if (!remediate || !items.some((i) => i.remediation)) return items;
  const ready: OutboxItem[] = [];
  for (const item of items) {
    if (!item.remediation) {
      ready.push(item);
      continue;
    }
    try {
      const done = await remediate(item);
      if (done) ready.push(done);
    } catch {
      // the executor logs its own trouble; the row is tried again by the next publish pass
    }
  }
  return ready;
}
