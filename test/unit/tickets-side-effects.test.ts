import { describe, expect, it } from "@jest/globals";
import { toServiceBusMessage } from "../../shared/bus/cloud-event.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { MemoryTicketLedger } from "../../shared/tickets/ledger.js";
import { handleTicketMessage } from "../../shared/tickets/open-ticket.js";
import { MemoryTicketSink } from "../../local/memory-sink.js";
import { T0, escalation, seedRun, ticketDeps } from "./tickets-handler-fixtures.js";

describe("a run that broke after a side-effecting tool call", () => {
  it("carries the calls through the Service Bus message into the ticket, so support checks the downstream system first", async () => {
    const store = new MemoryRunStore();
    await store.init();
    await seedRun(store, "run_side1", { status: "failed", terminal: true });
    const sink = new MemoryTicketSink();
    const deps = ticketDeps(store, new MemoryTicketLedger(), [sink]);
    const item = escalation("run_side1", "failed", 1, {
      partialSideEffects: true,
      sideEffectCalls: [{ name: "create_refund", at: T0 + 30_000, status: "completed", stepId: "step_1" }],
    });
    const message = toServiceBusMessage(item);
    expect(message.applicationProperties?.partialSideEffects).toBe("true");

    const { result } = await handleTicketMessage(deps, message.body);
    expect(result.kind).toBe("done");
    const body = sink.received[0].body;
    expect(body).toContain("Partial side effects: check the downstream system first");
    expect(body).toContain("create_refund");
    expect(body).toContain(new Date(T0 + 30_000).toISOString());
  });

  it("says nothing about side effects when there were none", async () => {
    const store = new MemoryRunStore();
    await store.init();
    await seedRun(store, "run_plain1", { status: "failed", terminal: true });
    const sink = new MemoryTicketSink();
    await handleTicketMessage(ticketDeps(store, new MemoryTicketLedger(), [sink]), toServiceBusMessage(escalation("run_plain1")).body);
    expect(sink.received[0].body).not.toContain("Partial side effects");
  });
});
