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
export async function publishOutbox(deps: TrackerDeps, limit = 500): Promise<PublishSummary> {
  const items = await deps.store.listPendingOutbox(limit);
  if (items.length === 0) return { sent: 0, failed: 0, pending: 0 };
  const result = await deps.publisher.publish(items);
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
  for (const item of items) if (sent.has(item.messageId)) deps.events.published(item, now);
  if (result.failed.length > 0) {
    deps.events.degraded("bus-unavailable", `${result.failed.length} of ${items.length} escalations not published yet: ${result.failed[0].error}`, now);
  }
  return { sent: sent.size, failed: result.failed.length, pending: items.length - sent.size };
}
