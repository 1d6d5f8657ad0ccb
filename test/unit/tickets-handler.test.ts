import { describe, expect, it } from "@jest/globals";
import { toCloudEvent } from "../../shared/bus/cloud-event.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { MemoryTicketLedger } from "../../shared/tickets/ledger.js";
import { DeadLetter, RetryLater, handleEscalationMessage, handleTicketMessage, retryDelayMs, settlementFor } from "../../shared/tickets/open-ticket.js";
import { SinkError } from "../../shared/tickets/sinks/types.js";
import { FailingSink, T0, escalation, recovery, seedRun, ticketDeps } from "./tickets-handler-fixtures.js";

async function setup(runIds: string[] = ["run_a1"], sinkNames = ["desk"]) {
  const store = new MemoryRunStore();
  for (const id of runIds) await seedRun(store, id);
  const ledger = new MemoryTicketLedger();
  const sinks = sinkNames.map((n) => new FailingSink(n));
  return { store, ledger, sinks };
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("handleEscalationMessage: one ticket per run", () => {
  it("opens on the first escalation, updates on later ones, resolves on recovery; a redelivery changes nothing", async () => {
    const { store, ledger, sinks } = await setup();
    const [desk] = sinks;
    const deps = ticketDeps(store, ledger, sinks);

    const first = await handleEscalationMessage(deps, escalation("run_a1", "failed", 1));
    expect(first).toEqual({ kind: "done", action: "opened", ticketId: expect.stringMatching(/^TKT-/) });
    expect(desk.received.map((r) => r.action)).toEqual(["open"]);
    expect(desk.received[0].body).toContain("run_a1");

    expect(await handleEscalationMessage(deps, escalation("run_a1", "failed", 1))).toEqual({ kind: "duplicate" });
    expect(desk.received).toHaveLength(1);

    const later = await handleEscalationMessage(deps, escalation("run_a1", "stalled-in-progress", 1));
    expect(later).toEqual({ kind: "done", action: "updated", ticketId: (first as { ticketId: string }).ticketId });
    expect(desk.received.map((r) => [r.action, r.externalId])).toEqual([
      ["open", desk.received[0].externalId],
      ["update", desk.received[0].externalId],
    ]);
    expect(desk.received[1].note).toMatch(/New escalation: stalled-in-progress/);

    const rec = await handleEscalationMessage(deps, recovery("run_a1", "stalled-in-progress"));
    expect(rec).toMatchObject({ kind: "done", action: "resolved" });
    expect(desk.received.map((r) => r.action)).toEqual(["open", "update", "resolve"]);
    for (const m of [escalation("run_a1", "stalled-in-progress", 1), recovery("run_a1", "stalled-in-progress")]) {
      expect(await handleEscalationMessage(deps, m)).toEqual({ kind: "duplicate" });
    }
    expect(desk.received).toHaveLength(3);
    expect(deps.events.map((e) => e.action)).toEqual(["opened", "updated", "resolved"]);
    // every event carries exactly the body the sink received
    expect(deps.events.map((e) => e.body)).toEqual(desk.received.map((r) => r.body));

    const row = (await ledger.get("prod", "run_a1"))!.value;
    expect(row).toMatchObject({ state: "open", processed: ["run_a1:failed:1", "run_a1:stalled-in-progress:1", "run_a1:stalled-in-progress:1:recovered"], resolvedAt: T0 + 61_000 });
    expect(row.inFlight).toBeUndefined();
  });

  it("ignores a recovery of a run without a ticket, and retries one whose ticket is still opening", async () => {
    const { store, ledger, sinks } = await setup();
    const deps = ticketDeps(store, ledger, sinks);
    expect(await handleEscalationMessage(deps, recovery("run_a1", "failed"))).toEqual({ kind: "ignored" });
    sinks[0].failNext("open", 503);
    expect(await thrown(handleEscalationMessage(deps, escalation("run_a1")))).toBeInstanceOf(RetryLater);
    const e = await thrown(handleEscalationMessage(deps, recovery("run_a1", "failed")));
    expect(e).toBeInstanceOf(RetryLater);
    expect((e as Error).message).toMatch(/still being opened/);
    await handleEscalationMessage(deps, escalation("run_a1"));
    await handleEscalationMessage(deps, recovery("run_a1", "failed"));
    expect(sinks[0].received.map((r) => r.action)).toEqual(["open", "resolve"]);
  });

  it("answers no-run for a run the store does not know, without calling a sink", async () => {
    const { store, ledger, sinks } = await setup([]);
    expect(await handleEscalationMessage(ticketDeps(store, ledger, sinks), escalation("run_gone"))).toEqual({ kind: "no-run" });
    expect(sinks[0].received).toHaveLength(0);
  });
});

describe("a sink failing halfway", () => {
  it("does not open twice in the sinks that already took the ticket", async () => {
    const { store, ledger, sinks } = await setup(["run_a1"], ["desk", "jira"]);
    const [desk, jira] = sinks;
    const deps = ticketDeps(store, ledger, sinks);
    jira.failNext("open", 502, 2);
    for (let i = 0; i < 2; i++) expect(await thrown(handleEscalationMessage(deps, escalation("run_a1"), { deliveryCount: i }))).toBeInstanceOf(RetryLater);
    expect((await ledger.get("prod", "run_a1"))!.value).toMatchObject({ state: "opening", externalIds: { desk: desk.received[0].externalId } });
    expect(await handleEscalationMessage(deps, escalation("run_a1"), { deliveryCount: 2 })).toMatchObject({ action: "opened" });
    expect(desk.received.map((r) => r.action)).toEqual(["open"]);
    expect(jira.received.map((r) => r.action)).toEqual(["open"]);
    expect(deps.events.filter((e) => e.action === "opened")).toHaveLength(1);
  });

  it("does not comment twice on the sinks that already took an update", async () => {
    const { store, ledger, sinks } = await setup(["run_a1"], ["desk", "jira", "boards"]);
    const deps = ticketDeps(store, ledger, sinks);
    await handleEscalationMessage(deps, escalation("run_a1"));
    sinks[2].failNext("update", 500);
    expect(await thrown(handleEscalationMessage(deps, escalation("run_a1", "failed", 2)))).toBeInstanceOf(RetryLater);
    expect((await ledger.get("prod", "run_a1"))!.value.inFlight).toEqual({ "run_a1:failed:2": { action: "updated", sinks: ["desk", "jira"], since: T0 + 61_000 } });
    await handleEscalationMessage(deps, escalation("run_a1", "failed", 2));
    for (const s of sinks) expect(s.received.map((r) => r.action)).toEqual(["open", "update"]);
    expect((await ledger.get("prod", "run_a1"))!.value.inFlight).toBeUndefined();
  });

  it("resumes a crashed open with findByKey instead of opening a second ticket", async () => {
    const { store, ledger, sinks } = await setup();
    const deps = ticketDeps(store, ledger, sinks);
    // What a crash right after the sink accepted leaves behind: the sink has it, the ledger says "opening" and knows no ID.
    const crashing = { ...ledger, put: ledger.put.bind(ledger), get: ledger.get.bind(ledger), getGroup: ledger.getGroup.bind(ledger), putGroup: ledger.putGroup.bind(ledger), init: ledger.init.bind(ledger), ticketsForRun: ledger.ticketsForRun.bind(ledger) };
    let writes = 0;
    crashing.put = async (e, etag) => {
      if (++writes === 2) throw new Error("process died");
      return ledger.put(e, etag);
    };
    expect(await thrown(handleEscalationMessage({ ...deps, ledger: crashing }, escalation("run_a1")))).toBeInstanceOf(RetryLater);
    expect(sinks[0].received).toHaveLength(1);
    expect(await handleEscalationMessage(deps, escalation("run_a1"))).toMatchObject({ action: "opened" });
    expect(sinks[0].received.map((r) => r.action)).toEqual(["open"]);
    expect((await ledger.get("prod", "run_a1"))!.value.externalIds).toEqual({ desk: sinks[0].received[0].externalId });
  });
});

describe("two messages of one run at once", () => {
  it("lets only one open; the other retries, then updates", async () => {
    const { store, ledger, sinks } = await setup();
    const deps = ticketDeps(store, ledger, sinks);
    sinks[0].failNext("open", 503);
    await thrown(handleEscalationMessage(deps, escalation("run_a1", "failed", 1))); // claim held by failed:1
    const e = await thrown(handleEscalationMessage(deps, escalation("run_a1", "expired", 1)));
    expect(e).toBeInstanceOf(RetryLater);
    expect((e as Error).message).toMatch(/being opened by run_a1:failed:1/);
    await handleEscalationMessage(deps, escalation("run_a1", "failed", 1));
    expect(await handleEscalationMessage(deps, escalation("run_a1", "expired", 1))).toMatchObject({ action: "updated" });
    expect(sinks[0].received.map((r) => r.action)).toEqual(["open", "update"]);
  });

  it("takes over a claim older than the lease (its holder died and its message went to the DLQ)", async () => {
    const { store, ledger, sinks } = await setup();
    let now = T0;
    const deps = ticketDeps(store, ledger, sinks, { now: () => now, openLeaseMs: 60_000 });
    sinks[0].failNext("open", 400);
    expect(await thrown(handleEscalationMessage(deps, escalation("run_a1", "failed", 1)))).toBeInstanceOf(DeadLetter);
    now += 61_000;
    expect(await handleEscalationMessage(deps, escalation("run_a1", "expired", 1))).toMatchObject({ action: "opened" });
    expect(sinks[0].received.map((r) => r.action)).toEqual(["open"]);
    // the dead-lettered message, replayed later, is reflected as an update
    expect(await handleEscalationMessage(deps, escalation("run_a1", "failed", 1))).toMatchObject({ action: "updated" });
  });
});

describe("storm grouping", () => {
  const runs = ["run_s1", "run_s2", "run_s3", "run_s4", "run_s5"];
  const grouping = { groupBy: ["agentId", "reason"] as ("agentId" | "reason")[], threshold: 2, windowSeconds: 300 };

  it("opens the first N runs' own tickets and one incident for the rest; each grouped run gets one grouped event", async () => {
    const { store, ledger, sinks } = await setup(runs);
    const [desk] = sinks;
    const deps = ticketDeps(store, ledger, sinks, { grouping });
    const results = [];
    for (const r of runs) results.push(await handleEscalationMessage(deps, escalation(r)));
    expect(results.map((r) => (r as { action: string }).action)).toEqual(["opened", "opened", "grouped", "grouped", "grouped"]);
    const groupId = (results[2] as { ticketId: string }).ticketId;
    expect(results.slice(2).every((r) => (r as { ticketId: string }).ticketId === groupId)).toBe(true);
    // 2 own tickets + 1 incident, and 2 "joined" notes on that incident
    expect(desk.received.map((r) => r.action)).toEqual(["open", "open", "open", "update", "update"]);
    const incident = desk.received[2];
    expect(incident.key).toMatch(/^group\|agentId=asst_payments,reason=failed\|/);
    expect(desk.received.slice(3).every((r) => r.externalId === incident.externalId)).toBe(true);
    expect(desk.received[4].note).toBe("Run run_s5 joined the group (5 runs).");
    for (const r of runs.slice(2)) {
      const mine = deps.events.filter((e) => e.runId === r);
      expect(mine.map((e) => e.action)).toEqual(["grouped"]);
      expect(mine[0].body).toContain(r);
    }
    // redeliveries change nothing
    for (const r of runs) expect(await handleEscalationMessage(deps, escalation(r))).toEqual({ kind: "duplicate" });
    expect(desk.received).toHaveLength(5);
    // a later escalation of a grouped run updates the incident
    expect(await handleEscalationMessage(deps, escalation("run_s4", "failed", 2))).toMatchObject({ action: "updated", ticketId: groupId });
    expect(desk.received.at(-1)).toMatchObject({ action: "update", externalId: incident.externalId });
  });

  it("makes later runs wait until the incident is open, and never opens it twice", async () => {
    const { store, ledger, sinks } = await setup(runs);
    const [desk] = sinks;
    const deps = ticketDeps(store, ledger, sinks, { grouping });
    await handleEscalationMessage(deps, escalation("run_s1"));
    await handleEscalationMessage(deps, escalation("run_s2"));
    desk.failNext("open", 503);
    expect(await thrown(handleEscalationMessage(deps, escalation("run_s3")))).toBeInstanceOf(RetryLater);
    const waiting = await thrown(handleEscalationMessage(deps, escalation("run_s4")));
    expect((waiting as Error).message).toMatch(/not open in desk yet/);
    expect(await handleEscalationMessage(deps, escalation("run_s3"))).toMatchObject({ action: "grouped" });
    expect(await handleEscalationMessage(deps, escalation("run_s4"))).toMatchObject({ action: "grouped" });
    expect(desk.received.map((r) => r.action)).toEqual(["open", "open", "open", "update"]);
    expect(deps.events.map((e) => [e.runId, e.action])).toEqual([
      ["run_s1", "opened"],
      ["run_s2", "opened"],
      ["run_s3", "grouped"],
      ["run_s4", "grouped"],
    ]);
  });

  it("puts a new window's runs in a new group", async () => {
    const { store, ledger, sinks } = await setup(runs);
    const deps = ticketDeps(store, ledger, sinks, { grouping });
    for (const r of runs.slice(0, 3)) await handleEscalationMessage(deps, escalation(r));
    const next = await handleEscalationMessage(deps, escalation("run_s4", "failed", 1, { at: T0 + 60_000 + 300_000 }));
    expect(next).toMatchObject({ action: "opened" });
  });
});

describe("failures become settlement instructions", () => {
  it("dead-letters a permanent sink error at once, with the reason", async () => {
    const { store, ledger, sinks } = await setup();
    sinks[0].failNext("open", 400);
    const e = await thrown(handleEscalationMessage(ticketDeps(store, ledger, sinks), escalation("run_a1")));
    expect(e).toBeInstanceOf(DeadLetter);
    expect(e).toMatchObject({ deadLetterReason: "SinkRejected", deadLetterDescription: "desk: POST /api answered HTTP 400" });
  });

  it("retries a transient one with exponential backoff, at least the target's Retry-After", async () => {
    const { store, ledger, sinks } = await setup();
    const deps = ticketDeps(store, ledger, sinks);
    sinks[0].failNext("open", 503, 3);
    const delays: number[] = [];
    for (let n = 0; n < 3; n++) delays.push(((await thrown(handleEscalationMessage(deps, escalation("run_a1"), { deliveryCount: n * 2 }))) as RetryLater).retryAfterMs);
    // base 100 ms: 100, 400, 1600→capped 1000; plus ≤ 20 % jitter
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(120);
    expect(delays[1]).toBeGreaterThanOrEqual(400);
    expect(delays[1]).toBeLessThanOrEqual(480);
    expect(delays[2]).toBeGreaterThanOrEqual(1000);
    expect(delays[2]).toBeLessThanOrEqual(1200);
    const throttled = settlementFor(new SinkError("desk", "429", { permanent: false, status: 429, retryAfterMs: 700 }), 0, { baseMs: 100, maxMs: 5000 });
    expect((throttled as RetryLater).retryAfterMs).toBeGreaterThanOrEqual(700);
  });

  it("computes delays that never exceed the cap", () => {
    expect(retryDelayMs(0, undefined, undefined, () => 0)).toBe(2000);
    expect(retryDelayMs(3, undefined, undefined, () => 0)).toBe(16_000);
    expect(retryDelayMs(30, undefined, undefined, () => 0)).toBe(60_000);
    expect(retryDelayMs(0, 3_600_000, undefined, () => 1)).toBe(72_000);
  });

  it("dead-letters a message that is not an escalation event, without touching the ledger", async () => {
    const { store, ledger, sinks } = await setup();
    const e = await thrown(handleTicketMessage(ticketDeps(store, ledger, sinks), { hello: "jane.doe@contoso.com" }));
    expect(e).toMatchObject({ deadLetterReason: "InvalidMessage" });
    expect((e as DeadLetter).deadLetterDescription).not.toContain("jane.doe@contoso.com");
    const ok = await handleTicketMessage(ticketDeps(store, ledger, sinks), toCloudEvent(escalation("run_a1")));
    expect(ok.result).toMatchObject({ action: "opened" });
    expect(ok.item.messageId).toBe("run_a1:failed:1");
  });
});
