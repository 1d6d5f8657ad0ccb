import { expect, test } from "@jest/globals";
import { checkSimulator } from "./foundry-sim-check.js";

// The checker has no client timeout, so every injected timeout costs it the simulator's whole hold
// (1 s by default on the manual clock); a shorter hold keeps this file fast. The default is checked by hand.
test("check-simulator passes on the flaky-foundry example", async () => {
  const { code, output } = await checkSimulator("flaky-foundry", { FOUNDRY_SIM_TIMEOUT_HOLD_MS: "250" });
  expect(output).toMatch(/ 0 failed/);
  expect(code).toBe(0);
}, 200_000);
