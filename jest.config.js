// Tests are compiled by `tsc` with the rest of the app and run as native ES modules from dist/,
// so what is tested is exactly what ships.
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  transform: {},
  testTimeout: 60000,
  maxWorkers: 2,
};
