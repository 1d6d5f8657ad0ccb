import { app, type InvocationContext, type Timer } from "@azure/functions";
import { services } from "../shared/services.js";
import { publishOutbox } from "../shared/tracking/publish.js";

// Poll-shard publishes right after it writes; this timer picks up whatever a crash or an
// unreachable Service Bus left behind.
export async function publishOutboxHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const summary = await publishOutbox((await services()).tracker);
  if (summary.sent || summary.failed) context.log(`publish-outbox: ${summary.sent} sent, ${summary.failed} failed`);
}

app.timer("publish-outbox", { schedule: "*/15 * * * * *", handler: publishOutboxHandler });
