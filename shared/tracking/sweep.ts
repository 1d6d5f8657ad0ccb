import type { RunStore } from "../store/types.js";
import type { Metrics } from "./deps.js";

/**
 * The sweep fans out: one poll-shards message per shard that holds active runs. A sweep that finds
 * none still reports the ActiveRuns gauge (0), so "the monitor is silent" stays distinguishable from "nothing to watch".
 */
export async function shardsToPoll(store: RunStore, metrics?: Metrics): Promise<{ shard: number }[]> {
  const shards = await store.nonEmptyShards();
  if (shards.length === 0) metrics?.activeRuns(undefined, []);
  return shards.map((shard) => ({ shard }));
}
