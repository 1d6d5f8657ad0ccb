// The Foundry read budget (a sliding second, like Foundry's quota) and the run → shard function.
import { describe, expect, test } from "@jest/globals";
import { VirtualClock } from "../../shared/tracking/clock.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { shardOf } from "../../shared/tracking/shard.js";

const T0 = Date.parse("2026-03-02T09:00:00Z");

describe("RateLimiter", () => {
  test("up to perSecond reads in any 1,000 ms window, then waits for the oldest to leave it", async () => {
    const clock = new VirtualClock(T0 + 250);
    const limiter = new RateLimiter(3, clock);
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(clock.now()).toBe(T0 + 250);
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1250); // 1 s after the first grant, not the next calendar second
    await limiter.acquire();
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1250);
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 2250);
  });

  test("a burst at the end of one second and at the start of the next share one window", async () => {
    const clock = new VirtualClock(T0 + 900);
    const limiter = new RateLimiter(4, clock);
    await limiter.acquire(2);
    await limiter.acquire(2);
    clock.advanceTo(T0 + 1100); // a new calendar second, but the same sliding second
    await limiter.acquire();
    expect(clock.now()).toBe(T0 + 1900);
  });

  test("a poll with steps takes two reads at once, waiting until both fit", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(3, clock);
    await limiter.acquire();
    clock.advanceTo(T0 + 400);
    await limiter.acquire(2);
    expect(clock.now()).toBe(T0 + 400);
    await limiter.acquire(); // window full: the first grant leaves at T0 + 1000
    expect(clock.now()).toBe(T0 + 1000);
    await limiter.acquire(2); // both grants of T0 + 400 must leave: T0 + 1400
    expect(clock.now()).toBe(T0 + 1400);
  });

  test("a request larger than the budget still goes through alone in an empty window (no deadlock)", async () => {
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

  test("long runs keep exactly perSecond per window (the grant log is trimmed, not lost)", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(50, clock);
    const stamps: number[] = [];
    for (let i = 0; i < 5000; i++) {
      await limiter.acquire();
      stamps.push(clock.now());
    }
    for (let i = 50; i < stamps.length; i++) expect(stamps[i] - stamps[i - 50]).toBeGreaterThanOrEqual(1000);
    expect(stamps[stamps.length - 1]).toBe(T0 + 99_000);
  });

  test("paced: grants 1/perSecond apart instead of a burst, two reads taking two slots", async () => {
    const clock = new VirtualClock(T0);
    const limiter = new RateLimiter(4, clock, { pace: true });
    const at: number[] = [];
    for (let i = 0; i < 3; i++) {
      await limiter.acquire();
      at.push(clock.now() - T0);
    }
    await limiter.acquire(2);
    at.push(clock.now() - T0);
    await limiter.acquire();
    at.push(clock.now() - T0);
    // the pair's slot is 750, but with 0, 250 and 500 in the window it waits for 0 to leave it
    expect(at).toEqual([0, 250, 500, 1000, 1250]);
  });

  test("paced on the real clock: many waiters are spread evenly and reserve one slot each", async () => {
    let lastRead = 0;
    let sleeps = 0;
    const limiter = new RateLimiter(100, { now: () => (lastRead = Date.now()), sleep: (ms) => (sleeps++, new Promise((r) => setTimeout(r, ms))) }, { pace: true });
    const stamps: number[] = [];
    await Promise.all(Array.from({ length: 20 }, async () => {
      await limiter.acquire();
      stamps.push(lastRead);
    }));
    stamps.sort((a, b) => a - b);
    expect(stamps[19] - stamps[0]).toBeGreaterThanOrEqual(185); // 19 gaps of 10 ms, timers rounding to the ms
    expect(sleeps).toBe(19); // the first goes at once; nobody wakes to find its slot taken
  }, 10_000);

  test("concurrent waiters on the real clock: never more than perSecond in any sliding second", async () => {
    const stamps: number[] = [];
    // the instant the limiter itself read for its grant (a later Date.now() may be a tick on)
    let lastRead = 0;
    const limiter = new RateLimiter(5, { now: () => (lastRead = Date.now()), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    await Promise.all(Array.from({ length: 12 }, async () => {
      await limiter.acquire();
      stamps.push(lastRead);
    }));
    stamps.sort((a, b) => a - b);
    for (let i = 5; i < stamps.length; i++) expect(stamps[i] - stamps[i - 5]).toBeGreaterThanOrEqual(1000);
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
