import { expect, test } from "@jest/globals";
import { checkSimulator } from "./foundry-sim-check.js";

test("check-simulator passes on the fleet example", async () => {
  const { code, output } = await checkSimulator("fleet");
  expect(output).toMatch(/ 0 failed/);
  expect(code).toBe(0);
}, 120_000);
