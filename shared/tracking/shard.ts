/** FNV-1a over project and run ID: a stable shard for a run, spread evenly. */
export function shardOf(project: string, runId: string, shardCount: number): number {
  let h = 0x811c9dc5;
  const key = `${project}|${runId}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shardCount;
}
