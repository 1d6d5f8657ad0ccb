// `run-monitor dlq list | replay` as a child process against the local broker: messages the
// ticket handler dead-lettered (a sink answered 400) are listed with their reason, replayed under
// new messageIds once the sink is fixed, re-delivered to the handler (tickets open), completed in
// the DLQ only after the re-send, and not re-sent to other subscriptions.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { DeadLetteredTicket, ReplayResult } from "../../cli/commands/dlq.js";
import { toServiceBusMessage } from "../../shared/bus/cloud-event.js";
import { cliWithCommands } from "../support/cli-commands.js";
import { escalation } from "../unit/tickets-handler-fixtures.js";
import { startTicketStack, type TicketStack } from "./tickets-handler-stack.js";

const run = cliWithCommands({ "dlq.js": "registerDlq" });
const cli = (args: string[], env: Record<string, string> = { ServiceBusConnection: stack.broker.connectionString }) => run(args, env);

let stack: TicketStack;

beforeAll(async () => {
  stack = await startTicketStack({ maxDeliveryCount: 3 });
  stack.startTrigger();
  await stack.seed(["run_q1", "run_q2", "run_q3"]);
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

describe("run-monitor dlq", () => {
  it("lists what the handler dead-lettered, then replays it to the handler once the sink is fixed", async () => {
    // Two rejected by the sink (400), one that kept failing (503) until MaxDeliveryCountExceeded.
    stack.webhook.failNext({ status: 400, body: { error: "project OPS does not exist" } }, 2);
    await stack.publisher.publish([escalation("run_q1"), escalation("run_q2", "failed", 1, { severity: "critical" })]);
    await stack.waitFor("two dead-letters", () => stack.stats().deadLettered >= 2);
    stack.webhook.failNext({ status: 503 }, 3);
    await stack.publisher.publish([escalation("run_q3")]);
    await stack.waitFor("the third dead-letter", () => stack.stats().deadLettered >= 3, 20_000);
    const sreBefore = stack.stats("sre-alerts").enqueued;
    expect(sreBefore).toBe(3); // all three are high/critical

    const listed = await cli(["dlq", "list", "--json"]);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as DeadLetteredTicket[];
    expect(rows.map((r) => [r.messageId, r.eventId, r.runId, r.reason, r.deadLetterReason, r.deliveryCount])).toEqual([
      ["run_q1:failed:1", "run_q1:failed:1", "run_q1", "failed", "SinkRejected", 0],
      ["run_q2:failed:1", "run_q2:failed:1", "run_q2", "failed", "SinkRejected", 0],
      ["run_q3:failed:1", "run_q3:failed:1", "run_q3", "failed", "MaxDeliveryCountExceeded", 3],
    ]);
    expect(rows[0].deadLetterErrorDescription).toBe('hook: POST webhook answered HTTP 400: {"error":"project OPS does not exist"}');
    expect(Date.parse(rows[0].enqueuedTime!)).toBeGreaterThan(Date.now() - 60_000);

    const text = await cli(["dlq", "list", "--max", "1"]);
    expect(text.stdout.trim().split("\n")).toHaveLength(1);
    expect(text.stdout).toMatch(/run_q1:failed:1\tdeliveries=0\tSinkRejected: hook: POST webhook answered HTTP 400/);
    expect(stack.stats("tickets/$DeadLetterQueue").active).toBe(3); // list removes nothing

    const posts = stack.webhook.received.length;
    const replayed = await cli(["dlq", "replay", "--json"]);
    expect(replayed.stderr).toBe("");
    expect(replayed.code).toBe(0);
    const result = JSON.parse(replayed.stdout) as ReplayResult;
    expect(result.replayed.map((r) => r.as)).toEqual(["run_q1:failed:1:replay:1", "run_q2:failed:1:replay:1", "run_q3:failed:1:replay:1"]);

    await stack.waitFor("three tickets", () => ["run_q1", "run_q2", "run_q3"].every((r) => stack.deps.events.some((e) => e.runId === r && e.action === "opened")));
    expect(stack.webhook.received.length - posts).toBe(3);
    expect(stack.stats("tickets/$DeadLetterQueue").active).toBe(0);
    // The replay went to the handler, not to the SRE alerts again.
    expect(stack.stats("sre-alerts").enqueued).toBe(sreBefore);
    expect((await cli(["dlq", "list"])).stdout).toBe("no dead-lettered messages\n");
  });

  it("replays a message that was in fact applied without a second ticket", async () => {
    // run_q1 has its ticket now; a stale copy of its escalation lands in the DLQ (e.g. lock lost after the sink call).
    const receiver = stack.client.createReceiver("run-escalations", "tickets");
    await stack.stopTrigger();
    const sender = stack.client.createSender("run-escalations");
    await sender.sendMessages({ ...toServiceBusMessage(escalation("run_q1")), messageId: "run_q1:failed:1:stale" });
    await sender.close();
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    await receiver.deadLetterMessage(m, { deadLetterReason: "LockLost", deadLetterErrorDescription: "test" });
    await receiver.close();
    stack.startTrigger();

    const posts = stack.webhook.received.length;
    const r = await cli(["dlq", "replay", "--json"]);
    expect((JSON.parse(r.stdout) as ReplayResult).replayed).toEqual([{ from: "run_q1:failed:1:stale", as: "run_q1:failed:1:stale:replay:1", eventId: "run_q1:failed:1" }]);
    await stack.waitFor("the replayed delivery", () => stack.deliveries.some((d) => d.messageId === "run_q1:failed:1:stale:replay:1"));
    expect(stack.webhook.received.length).toBe(posts);
    expect(stack.deps.events.filter((e) => e.runId === "run_q1")).toHaveLength(1);
  });

  it("exits 2 with one line for bad input", async () => {
    const bad = await cli(["dlq", "list", "--max", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('run-monitor: --max: expected an integer between 1 and 10000, got "0"\n');
    const noBus = await cli(["dlq", "replay"], {});
    expect(noBus.code).toBe(2);
    expect(noBus.stderr.trim().split("\n")).toHaveLength(1);
    expect(noBus.stderr).toMatch(/ServiceBusConnection/);
  });
});
