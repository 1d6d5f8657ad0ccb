import { app, output, type InvocationContext, type Timer } from "@azure/functions";
import { services } from "../shared/services.js";
import { shardsToPoll } from "../shared/tracking/sweep.js";

export const pollShardsQueue = output.storageQueue({ queueName: "poll-shards", connection: "AzureWebJobsStorage" });

export async function sweepHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const s = await services();
  // Metrics go out even for an empty index: a silent monitor is an alert, an idle one is not.
  const shards = await shardsToPoll(s.store, s.tracker.metrics);
  context.extraOutputs.set(pollShardsQueue, shards);
  context.log(`sweep: ${shards.length} shards with active runs`);
}

// The schedule follows POLL_INTERVAL_SECONDS through the %…% app-setting expression (NCRONTAB, seconds field first).
app.timer("sweep", { schedule: "%SWEEP_SCHEDULE%", handler: sweepHandler, extraOutputs: [pollShardsQueue] });
