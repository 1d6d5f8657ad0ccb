// The Foundry read budget (calendar seconds, like Foundry's quota) and the run → shard function.
import { describe, expect, test } from "@jest/globals";
import { VirtualClock } from "../../shared/tracking/clock.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { shardOf } from "../../shared/tracking/shard.js";

const T0 = Date.parse("2026-03-02T09:00:00Z");

describe("RateLimiter", () => {
  test("up to perSecond reads in one calendar second, then waits for the next second", async () => {
    const clock = new VirtualClock(T0 + 250);
    const limiter = new RateLimiter(3, clock);
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(clock.now()).toBe(T0 + 250);
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1000); // the start of the next second, not 250 ms + 1 s
    await limiter.acquire();
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1000);
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 2000);
  });

  test("a poll with steps takes two reads at once, and never splits across seconds", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(3, clock);
    await limiter.acquire();
    await limiter.acquire(2);
    expect(clock.now()).toBe(T0);
    await limiter.acquire();
    await limiter.acquire(2); // 1 used in second 1: two more fit
    expect(clock.now()).toBe(T0 + 1000);
    await limiter.acquire(2); // 3 used: wait
    expect(clock.now()).toBe(T0 + 2000);
  });

  test("a request larger than the budget still goes through alone in a fresh second (no deadlock)", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(1, clock);
    await limiter.acquire(2);
    expect(clock.now()).toBe(T0);
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1000);
  });

  test("time passing on its own frees the budget", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(2, clock);
    await limiter.acquire(2);
    clock.advanceTo(T0 + 1500);
    await limiter.acquire(2);
    expect(clock.now()).toBe(T0 + 1500);
  });

  test("concurrent waiters on the real clock: never more than perSecond in one second", async () => {
    const stamps: number[] = [];
    const limiter = new RateLimiter(5, { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    await Promise.all(Array.from({ length: 12 }, async () => {
      await limiter.acquire();
      stamps.push(Date.now());
    }));
    const perSecond = new Map<number, number>();
    for (const t of stamps) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
    expect(stamps).toHaveLength(12);
  }, 10_000);
});

describe("shardOf", () => {
  test("stable, in range, and keyed on project and run together", () => {
    expect(shardOf("prod", "run_abc", 16)).toBe(shardOf("prod", "run_abc", 16));
    const ids = Array.from({ length: 200 }, (_, i) => `run_${i.toString(36)}x`);
    for (const id of ids) {
      const s = shardOf("prod", id, 7);
      expect(Number.isInteger(s) && s >= 0 && s < 7).toBe(true);
    }
    expect(ids.some((id) => shardOf("prod", id, 16) !== shardOf("staging", id, 16))).toBe(true);
    expect(ids.every((id) => shardOf("prod", id, 1) === 0)).toBe(true);
  });

  test("spreads Foundry-looking IDs evenly over the shards", () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf("prod", `run_${(i * 2654435761).toString(36).padStart(8, "0")}`, 16)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
});
