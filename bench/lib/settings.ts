import type { PsphubProcess } from "../../tests/support/processes.js";
import type { DbKind, ScratchDb, Seed } from "../../tests/support/seed.js";

/** The run's settings, from `npm run bench` flags (bench/run.ts). */
export type Settings = {
  durationS: number;
  warmupS: number;
  /** B4: past orders inserted before it runs. */
  growth: number;
  /** Closed-loop connections (B1, B2, B4, the baseline). */
  connections: number;
  /** B3: deposits per second. */
  rate: number;
  /** Write CPU profiles of the servers. */
  profile: boolean;
  /** B1–B4's server runs the API-3 worker, and its integration has API-3 on (--worker). */
  worker: boolean;
  /** B5: orders whose callbacks are lost, and the schedule's first delay in seconds. */
  b5Orders: number;
  b5DelayS: number;
};

/** What a benchmark runs against: one database, seeded, and how to start a server on it. */
export type BenchTarget = {
  settings: Settings;
  kind: DbKind;
  db: ScratchDb;
  seed: Seed;
  /** Starts `psphub serve` on the database, with extra node flags (e.g. --cpu-prof). */
  startServer(nodeArgs: string[]): Promise<PsphubProcess>;
};
