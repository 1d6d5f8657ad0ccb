// One deployment watches several Foundry projects: this RunSource routes each ref to the adapter of
// its project and API, built on first use from FOUNDRY_PROJECTS.

import type { TokenCredential } from "@azure/identity";
import type { FoundryProject, Settings } from "../config/config.js";
import type { Api, PollOutcome, RunRef, StepSummary } from "../model/run.js";
import { ClassicDiscoverySource } from "./classic-discovery-source.js";
import { ClassicRunSource } from "./classic-run-source.js";
import { defaultFoundryCredential } from "./credential.js";
import type { DiscoverySource } from "./discovery-source.js";
import { ResponsesRunSource } from "./responses-run-source.js";
import type { RunSource } from "./run-source.js";
import type { FoundrySourceOptions } from "./source-options.js";

/** Builds the adapter for one project and API; replaceable so the local stack can route to its simulator. */
export type RunSourceFactory = (project: FoundryProject, api: Api, options: FoundrySourceOptions) => RunSource;

export const sdkRunSourceFactory: RunSourceFactory = (_project, api, options) =>
  api === "classic" ? new ClassicRunSource(options) : new ResponsesRunSource(options);

export interface ProjectRunSourcesOptions {
  /** Shared by every project; defaults to DefaultAzureCredential. */
  credential?: TokenCredential;
  ca?: string;
  timeoutMs?: number;
  factory?: RunSourceFactory;
}

/** A ref names a project or API the configuration does not watch: a registration bug, not Foundry trouble. */
export class UnknownProjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnknownProjectError";
  }
}

export class ProjectRunSources implements RunSource {
  private readonly projects: Map<string, FoundryProject>;
  private readonly sources = new Map<string, RunSource>();
  private readonly listers = new Map<string, DiscoverySource>();
  private credential: TokenCredential | undefined;

  constructor(projects: readonly FoundryProject[], private readonly options: ProjectRunSourcesOptions = {}) {
    this.projects = new Map(projects.map((p) => [p.name, p]));
    this.credential = options.credential;
  }

  /** Everything from validated settings (FOUNDRY_PROJECTS, FOUNDRY_TIMEOUT_MS). */
  static fromSettings(settings: Settings, options: Omit<ProjectRunSourcesOptions, "timeoutMs"> = {}): ProjectRunSources {
    return new ProjectRunSources(settings.FOUNDRY_PROJECTS, { ...options, timeoutMs: settings.FOUNDRY_TIMEOUT_MS });
  }

  // async, so an unknown project rejects the promise rather than throwing at the call.
  async poll(ref: RunRef, options?: { steps?: boolean; signal?: AbortSignal }): Promise<PollOutcome> {
    return this.sourceFor(ref).poll(ref, options);
  }

  async listSteps(ref: RunRef): Promise<StepSummary[]> {
    return this.sourceFor(ref).listSteps(ref);
  }

  async finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    return this.sourceFor(ref).finalMessage(ref);
  }

  /** The adapter for a ref's project and API; throws UnknownProjectError naming what is not configured. */
  sourceFor(ref: Pick<RunRef, "project" | "api">): RunSource {
    const project = this.project(ref);
    const key = `${project.name}\u0000${ref.api}`;
    let source = this.sources.get(key);
    if (!source) {
      const factory = this.options.factory ?? sdkRunSourceFactory;
      source = factory(project, ref.api, this.sourceOptions(project));
      this.sources.set(key, source);
    }
    return source;
  }

  /** The classic thread listings of a project (discovery); throws UnknownProjectError like sourceFor. */
  discoveryFor(projectName: string): DiscoverySource {
    const project = this.project({ project: projectName, api: "classic" });
    let lister = this.listers.get(project.name);
    if (!lister) this.listers.set(project.name, (lister = new ClassicDiscoverySource(this.sourceOptions(project))));
    return lister;
  }

  private project(ref: Pick<RunRef, "project" | "api">): FoundryProject {
    const project = this.projects.get(ref.project);
    if (!project) {
      throw new UnknownProjectError(`unknown Foundry project ${JSON.stringify(ref.project)}: FOUNDRY_PROJECTS lists ${[...this.projects.keys()].map((n) => JSON.stringify(n)).join(", ") || "none"}`);
    }
    if (project.api !== "both" && project.api !== ref.api) {
      throw new UnknownProjectError(`Foundry project ${JSON.stringify(ref.project)} is configured for api "${project.api}", not "${ref.api}"`);
    }
    return project;
  }

  private sourceOptions(project: FoundryProject): FoundrySourceOptions {
    this.credential ??= defaultFoundryCredential();
    return { endpoint: project.endpoint, credential: this.credential, ca: this.options.ca, timeoutMs: this.options.timeoutMs };
  }
}
