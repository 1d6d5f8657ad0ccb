// The Foundry simulator: an in-process core (createSimulation) and its HTTPS server.
export { createSimulation, servesProject, CANCEL_SECONDS } from "./simulation.js";
export type { Simulation, SimulationOptions, SimRequest, SimResponse, SimStats, RunSnapshot, RequestKind } from "./simulation.js";
export { startFoundrySimulator } from "./server.js";
export type { FoundrySimulator, FoundrySimulatorOptions, ClockMode } from "./server.js";
