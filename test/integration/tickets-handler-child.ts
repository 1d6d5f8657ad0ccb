// A ticket handler in its own process, for the kill -9 test: handles one escalation message with
// the Table ledger on Azurite and two file sinks, and SIGKILLs itself at the point CRASH_AT names:
//   after-open:<sink>   right after that sink appended its line, before the ledger heard of it
//   before-put:<n>      just before the n-th ledger write
//   after-put:<n>       just after the n-th ledger write
import { TableClient } from "@azure/data-tables";
import { createTableRunStore } from "../../shared/store/table-store.js";
import type { OutboxItem } from "../../shared/store/types.js";
import { TableTicketLedger, type TicketLedger } from "../../shared/tickets/ledger.js";
import { handleEscalationMessage } from "../../shared/tickets/open-ticket.js";
import { FileSink } from "../../shared/tickets/sinks/file.js";
import type { TicketSink } from "../../shared/tickets/sinks/types.js";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const crashAt = process.env.CRASH_AT ?? "";
const die = (): never => {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable");
};

function killingSink(inner: FileSink): TicketSink {
  return {
    name: inner.name,
    findByKey: (key) => inner.findByKey(key),
    update: (id, t, note) => inner.update(id, t, note),
    resolve: (id, t) => inner.resolve(id, t),
    open: async (t) => {
      const opened = await inner.open(t);
      if (crashAt === `after-open:${inner.name}`) die();
      return opened;
    },
  };
}

function killingLedger(inner: TicketLedger): TicketLedger {
  let puts = 0;
  return {
    init: () => inner.init(),
    get: (p, r) => inner.get(p, r),
    getGroup: (k, w) => inner.getGroup(k, w),
    putGroup: (g, e) => inner.putGroup(g, e),
    ticketsForRun: (p, r) => inner.ticketsForRun(p, r),
    put: async (entry, etag) => {
      const n = ++puts;
      if (crashAt === `before-put:${n}`) die();
      const result = await inner.put(entry, etag);
      if (crashAt === `after-put:${n}`) die();
      return result;
    },
  };
}

const connectionString = env("AZURITE_CONNECTION_STRING");
const store = createTableRunStore({ connectionString, tablePrefix: env("STORE_PREFIX") });
const ledger = new TableTicketLedger(TableClient.fromConnectionString(connectionString, env("LEDGER_TABLE"), { allowInsecureConnection: true }));
const sinks = env("SINK_FILES")
  .split(",")
  .map((spec) => {
    const [name, path] = spec.split("=");
    return killingSink(new FileSink({ name, path, now: Date.now }));
  });
const item = JSON.parse(env("MESSAGE")) as OutboxItem;
// Tells a parent that kills at a random moment when the interesting part starts.
process.stderr.write("handling\n");
const result = await handleEscalationMessage(
  { store, ledger: killingLedger(ledger), sinksFor: () => sinks, evidencePolicy: {}, links: () => ({}), now: Date.now },
  item,
);
process.stdout.write(JSON.stringify(result) + "\n");
