import type { RunStore } from "../store/types.js";

/** The sweep fans out: one poll-shards message per shard that holds active runs. */
export async function shardsToPoll(store: RunStore): Promise<{ shard: number }[]> {
  return (await store.nonEmptyShards()).map((shard) => ({ shard }));
}
