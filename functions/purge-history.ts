import { app, type InvocationContext, type Timer } from "@azure/functions";
import { services } from "../shared/services.js";

const DAY_MS = 24 * 3600 * 1000;

/** Daily: terminal runs older than HISTORY_RETENTION_DAYS leave the store with all their rows. */
export async function purgeHistoryHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const s = await services();
  const removed = await s.store.purgeHistory(s.tracker.clock.now() - s.settings.HISTORY_RETENTION_DAYS * DAY_MS);
  context.log(`purge-history: ${removed} runs removed`);
}

app.timer("purge-history", { schedule: "0 17 3 * * *", handler: purgeHistoryHandler });
