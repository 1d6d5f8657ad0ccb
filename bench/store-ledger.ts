// Table Storage requests, counted at the store boundary (`store.counters`) and attributed to the
// store method that sent them — exactly, even with many calls in flight, because the attribution
// rides on AsyncLocalStorage rather than on counter differences. That split is what tells "what an
// unchanged run costs" (index queries of a sweep) from "what a change costs" (commit, publish).

import { AsyncLocalStorage } from "node:async_hooks";
import type { RunStore, StoreCounters } from "../shared/store/types.js";

export interface RequestTally {
  reads: number;
  writes: number;
}

export type MethodTallies = Record<string, RequestTally>;

/** Methods a sweep calls whatever changed: their requests are the price of the unchanged majority. */
export const SWEEP_OVERHEAD_METHODS: ReadonlySet<string> = new Set(["nonEmptyShards", "listShard"]);

export class StoreLedger {
  private readonly scope = new AsyncLocalStorage<string>();
  private tallies: MethodTallies = {};
  /** The store to hand the tracking core: same object behaviour, every method call scoped. */
  readonly store: RunStore;

  constructor(inner: RunStore) {
    this.watch(inner.counters);
    const scope = this.scope;
    this.store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function" || typeof prop !== "string") return value;
        return (...args: unknown[]) => {
          const outer = scope.getStore();
          return scope.run(outer ? `${outer}/${prop}` : prop, () => (value as (...a: unknown[]) => unknown).apply(target, args));
        };
      },
    });
  }

  /** Runs `work` with its store requests filed under `name/method` (e.g. a timer's own publishes). */
  scoped<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.scope.run(name, work);
  }

  /** Tallies since the last call, then starts again from zero. */
  take(): MethodTallies {
    const t = this.tallies;
    this.tallies = {};
    return t;
  }

  /** Turns the counters' fields into accessors so every increment is seen with the method that made it. */
  private watch(counters: StoreCounters): void {
    for (const field of ["reads", "writes"] as const) {
      let value = counters[field];
      Object.defineProperty(counters, field, {
        enumerable: true,
        get: () => value,
        set: (next: number) => {
          const method = this.scope.getStore() ?? "(outside a store call)";
          const tally = (this.tallies[method] ??= { reads: 0, writes: 0 });
          tally[field] += next - value;
          value = next;
        },
      });
    }
  }
}

export function sumTallies(tallies: MethodTallies, only?: (method: string) => boolean): RequestTally {
  const total = { reads: 0, writes: 0 };
  for (const [method, t] of Object.entries(tallies)) {
    if (only && !only(method)) continue;
    total.reads += t.reads;
    total.writes += t.writes;
  }
  return total;
}

export function addTallies(into: MethodTallies, more: MethodTallies): MethodTallies {
  for (const [method, t] of Object.entries(more)) {
    const slot = (into[method] ??= { reads: 0, writes: 0 });
    slot.reads += t.reads;
    slot.writes += t.writes;
  }
  return into;
}
