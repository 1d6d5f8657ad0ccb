import { expect, test } from "@jest/globals";
import { everyMsOfSchedule } from "../../local/functions-host.js";

test("the local host reads the periods of the schedules the monitor uses, and nothing it would guess", () => {
  expect(everyMsOfSchedule("*/30 * * * * *")).toBe(30_000);
  expect(everyMsOfSchedule("0 */5 * * * *")).toBe(300_000);
  expect(everyMsOfSchedule("0 * * * * *")).toBe(60_000);
  expect(everyMsOfSchedule("0 0 */6 * * *")).toBe(6 * 3600_000);
  // calendar schedules (daily at 03:17, weekdays) have no fixed period
  expect(everyMsOfSchedule("0 17 3 * * *")).toBeUndefined();
  expect(everyMsOfSchedule("0 */5 * * * 1-5")).toBeUndefined();
  expect(everyMsOfSchedule("*/5 * * * *")).toBeUndefined();
});
