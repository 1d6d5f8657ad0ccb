// Entry of a benchmark worker process (forked by run-bench.ts): waits for the simulator to be up,
// runs one job (the monitor or the naive baseline), reports the result over IPC and exits.

import { ensureError } from "../shared/errors.js";
import { runMonitorJob } from "./monitor-worker.js";
import { runNaiveJob } from "./naive-worker.js";
import type { BenchJob, ParentMessage, WorkerMessage } from "./protocol.js";
import { send } from "./worker-support.js";

/** Resolves once the message is handed to the IPC channel, so exiting right after cannot lose it. */
function sendFinal(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "") as BenchJob;
  const awaitGo = (startMs: number) =>
    new Promise<ParentMessage>((resolve) => {
      process.once("message", (m) => resolve(m as ParentMessage));
      send({ type: "registered", startMs });
    });
  const result = job.mode === "monitor" ? await runMonitorJob(job, awaitGo) : await runNaiveJob(job, awaitGo);
  await sendFinal({ type: "result", result });
}

main()
  .catch(async (e: unknown) => {
    const err = ensureError(e);
    await sendFinal({ type: "failed", message: err.stack ?? err.message });
  })
  // Keep-alive sockets of the SDK clients must not keep the worker alive once it has answered.
  .finally(() => process.exit(0));
