import { expect, test } from "@jest/globals";
import { checkSimulator } from "./foundry-sim-check.js";

test("check-simulator passes on the stalls example", async () => {
  const { code, output } = await checkSimulator("stalls");
  expect(output).toMatch(/ 0 failed/);
  expect(code).toBe(0);
}, 60_000);
