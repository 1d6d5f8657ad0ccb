import { app, type InvocationContext } from "@azure/functions";
import { services } from "../shared/services.js";
import { handleTicketMessage } from "../shared/tickets/open-ticket.js";

/**
 * A throw abandons the message. The errors say how to settle it — `DeadLetter` (a permanent sink
 * rejection, a body that is not an escalation) and `RetryLater` (backoff for 5xx/429/timeouts) —
 * which the local trigger honours exactly; the Functions host abandons on any throw, so in Azure
 * Service Bus redelivers and dead-letters after the subscription's max delivery count
 * (docs/tickets.md). `run-monitor dlq` shows and replays dead letters.
 */
export async function openTicketHandler(message: unknown, context: InvocationContext): Promise<void> {
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 0);
  const { item, result } = await handleTicketMessage((await services()).tickets, message, { deliveryCount });
  context.log(`open-ticket ${item.messageId}: ${result.kind === "done" ? `${result.action} ${result.ticketId}` : result.kind}`);
}

app.serviceBusTopic("open-ticket", {
  connection: "ServiceBusConnection",
  topicName: "%ESCALATION_TOPIC%",
  subscriptionName: "%TICKETS_SUBSCRIPTION%",
  handler: openTicketHandler,
});
