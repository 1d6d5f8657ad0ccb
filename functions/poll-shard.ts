import { app, type InvocationContext } from "@azure/functions";
import { z } from "zod";
import { services } from "../shared/services.js";
import { pollShard } from "../shared/tracking/poll-shard.js";

export const PollShardMessage = z.object({ shard: z.number().int().min(0).max(1023) }).strict();

export async function pollShardHandler(message: unknown, context: InvocationContext): Promise<void> {
  const { shard } = PollShardMessage.parse(typeof message === "string" ? JSON.parse(message) : message);
  const summary = await pollShard((await services()).tracker, shard);
  context.log(`poll-shard ${shard}: ${summary.polled} reads, ${summary.written} written, ${summary.unchanged} unchanged, ${summary.unread} unread`);
}

app.storageQueue("poll-shard", { queueName: "poll-shards", connection: "AzureWebJobsStorage", handler: pollShardHandler });
