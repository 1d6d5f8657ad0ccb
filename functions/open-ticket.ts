import { app, type InvocationContext } from "@azure/functions";
import { parseEscalationEvent } from "../shared/bus/cloud-event.js";
import { services } from "../shared/services.js";
import { outboxItemOf } from "../shared/tickets/escalation-message.js";
import { handleEscalationMessage } from "../shared/tickets/open-ticket.js";

/**
 * A throw abandons the message: Service Bus redelivers it (sink 5xx, timeouts) and dead-letters
 * it after the subscription's max delivery count; `run-monitor dlq` shows and replays those.
 */
export async function openTicketHandler(message: unknown, context: InvocationContext): Promise<void> {
  const item = outboxItemOf(parseEscalationEvent(message));
  const result = await handleEscalationMessage((await services()).tickets, item);
  context.log(`open-ticket ${item.messageId}: ${result.kind === "done" ? `${result.action} ${result.ticketId}` : result.kind}`);
}

app.serviceBusTopic("open-ticket", {
  connection: "ServiceBusConnection",
  topicName: "%ESCALATION_TOPIC%",
  subscriptionName: "%TICKETS_SUBSCRIPTION%",
  handler: openTicketHandler,
});
