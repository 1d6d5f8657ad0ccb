import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { TableClient } from "@azure/data-tables";
import { createMemoryRunStore } from "../../shared/store/memory-store.js";
import { createTableRunStore, type TableRunStore } from "../../shared/store/table-store.js";
import type { RunStore, StoreCounters } from "../../shared/store/types.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { advance, describeRunStoreContract, makeHead, outboxItem, transition } from "./store-conformance.js";

let azurite: AzuriteInstance;
let prefixes = 0;

beforeAll(async () => {
  azurite = await startAzurite();
}, 30_000);

afterAll(async () => {
  await azurite?.stop();
});

async function newTableStore(): Promise<TableRunStore> {
  const store = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: `t${process.pid}x${++prefixes}` });
  await store.init();
  return store;
}

describeRunStoreContract("Table Storage (Azurite)", newTableStore);

describe("Table store specifics", () => {
  test("counts exactly the requests the memory store models, call by call", async () => {
    const script = async (store: RunStore): Promise<[string, StoreCounters][]> => {
      const log: [string, StoreCounters][] = [];
      const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
        const before = { ...store.counters };
        await fn();
        log.push([name, { reads: store.counters.reads - before.reads, writes: store.counters.writes - before.writes }]);
      };
      await step("init", () => store.init());
      const a = makeHead("p1", "r1", { session: "s", agentId: "asst", shard: 1 });
      const b = makeHead("p1", "r2", { shard: 2, registeredAt: a.registeredAt + 1 });
      await step("create a", () => store.createRun({ head: a, transitions: [], outbox: [] }));
      await step("create b", () => store.createRun({ head: b, transitions: [transition(b, 1, null, "queued")], outbox: [] }));
      await step("create a again", () => store.createRun({ head: a, transitions: [], outbox: [] }));
      await step("listShard", () => store.listShard(1));
      await step("listShard empty", () => store.listShard(9));
      await step("nonEmptyShards", () => store.nonEmptyShards());
      await step("countActive", () => store.countActive("p1"));
      const va = (await store.getHead("p1", "r1"))!;
      const x = advance(va, "failed", a.updatedAt + 5, { terminal: true, agentId: "asst2", pendingOutbox: ["r1:failed:1"] });
      await step("commit terminal+outbox", () => store.commit({ expectedEtag: va.etag, ...x, outbox: [outboxItem(x.head, "failed", 5)] }));
      await step("commit stale", () => store.commit({ expectedEtag: va.etag, ...x, outbox: [] }));
      await step("listPendingOutbox", () => store.listPendingOutbox());
      await step("markPublished", () => store.markPublished("p1", "r1", ["r1:failed:1"]));
      await step("markPublished again", () => store.markPublished("p1", "r1", ["r1:failed:1"]));
      await step("search lookup", () => store.searchRuns({ agentId: "asst2", limit: 1 }));
      await step("search scan", () => store.searchRuns({ project: "p1" }));
      await step("transitions", () => store.listTransitions("p1", "r2"));
      await step("outbox", () => store.listOutbox("p1", "r1"));
      await step("purge", () => store.purgeHistory(a.updatedAt + 100));
      return log;
    };
    const table = await script(createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: `parity${process.pid}` }));
    const memory = await script(createMemoryRunStore());
    expect(memory).toEqual(table);
    // Spot-check the model itself: an unchanged poll is reads only; a commit is 1 transaction + index refresh.
    expect(Object.fromEntries(table)["listShard"]).toEqual({ reads: 1, writes: 0 });
    expect(Object.fromEntries(table)["create a"]).toEqual({ reads: 1, writes: 7 });
  });

  test("a stale index entry of a finished run is dropped on the conflict it causes", async () => {
    const store = await newTableStore();
    await store.createRun({ head: makeHead("p1", "r_heal", { shard: 4 }), transitions: [], outbox: [] });
    const entry = (await store.listShard(4))[0];
    // Simulate a crash between a terminal commit and its index removal: the head is terminal, the
    // index still holds the old copy.
    const done = advance(entry, "completed", 1_700_000_009_000, { terminal: true });
    expect((await store.commit({ expectedEtag: entry.etag, ...done, outbox: [] })).ok).toBe(true);
    const client = TableClient.fromConnectionString(azurite.connectionString, `${tableNamePrefix(store)}active`, { allowInsecureConnection: true });
    await client.createEntity({ partitionKey: "shard|4", rowKey: "p1|r_heal", project: "p1", runId: "r_heal", pending: false, headEtag: entry.etag, head: JSON.stringify(entry.head), headChunks: 1 });
    expect(await store.listShard(4)).toHaveLength(1);
    expect((await store.commit({ expectedEtag: entry.etag, ...advance(entry, "in_progress", 1_700_000_010_000), outbox: [] })).ok).toBe(false);
    expect(await store.listShard(4)).toEqual([]);
  });

  test("throughput on Azurite (reported, loosely bounded)", async () => {
    const store = await newTableStore();
    const n = 120;
    const heads = Array.from({ length: n }, (_, i) => makeHead("bench", `run_${i}`, { shard: i % 8 }));
    let t = performance.now();
    for (const head of heads) await store.createRun({ head, transitions: [], outbox: [] });
    const createsPerSec = n / ((performance.now() - t) / 1000);

    const entries = (await Promise.all(Array.from({ length: 8 }, (_, k) => store.listShard(k)))).flat();
    expect(entries).toHaveLength(n);
    t = performance.now();
    for (const e of entries.slice(0, n / 2)) {
      const r = await store.commit({ expectedEtag: e.etag, ...advance(e, "queued", 1_700_000_001_000), outbox: [] });
      expect(r.ok).toBe(true);
    }
    const seqPerSec = n / 2 / ((performance.now() - t) / 1000);

    const rest = entries.slice(n / 2);
    t = performance.now();
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < rest.length; i += 8) {
        const r = await store.commit({ expectedEtag: rest[i].etag, ...advance(rest[i], "queued", 1_700_000_001_000), outbox: [] });
        expect(r.ok).toBe(true);
      }
    });
    await Promise.all(workers);
    const parPerSec = rest.length / ((performance.now() - t) / 1000);

    t = performance.now();
    const before = store.counters.writes;
    for (let k = 0; k < 8; k++) await store.listShard(k);
    const sweepMs = performance.now() - t;
    expect(store.counters.writes).toBe(before);
    console.log(
      `Azurite store throughput: createRun ${createsPerSec.toFixed(0)}/s sequential; commit ${seqPerSec.toFixed(0)}/s sequential, ` +
        `${parPerSec.toFixed(0)}/s with 8 in flight; listShard sweep of ${n} runs in 8 shards ${sweepMs.toFixed(0)} ms`,
    );
    expect(seqPerSec).toBeGreaterThan(5);
  });
});

function tableNamePrefix(store: TableRunStore): string {
  return (store as unknown as { active: { name: string } }).active.name.replace(/active$/, "");
}
