import type { PsphubProcess } from "../tests/support/processes.js";
import { insertOrders } from "../tests/support/seed.js";
import { callbackRun, ordersFor, warmUp } from "./lib/callbacks.js";
import { cpuNote, type Figures, figures, log } from "./lib/figures.js";
import type { BenchTarget } from "./lib/settings.js";

export type B1Result = Figures & {
  credited: number;
  answered204: number;
  verified: boolean;
  /** Set when the server stops (after B2 and B3, which share it). */
  peakRssMb: number;
  /** Callbacks per batch (group commit), on average. */
  meanBatch: number;
};

/**
 * B1: distinct success callbacks, each for its own pending order, at the run's concurrency for
 * its duration, after a warm-up on other orders. Every 204 must have credited its order once.
 */
export async function runB1(t: BenchTarget, server: PsphubProcess): Promise<B1Result> {
  const { settings, kind, db, seed: s } = t;
  const warm = await warmUp(settings, server, s, "w", 30_000);
  log(`${kind}: warm-up ${warm.requests} callbacks at ${warm.rps.toFixed(0)}/s`);
  const n = ordersFor(settings, warm.rps);
  await insertOrders(db, s, { prefix: "a", count: n, kind: "pending" });
  log(`${kind}: B1: ${n} pending orders ready, ${settings.connections} connections, ${settings.durationS} s`);
  const r = await callbackRun(settings, server, db, s, "a", n);
  const b1: B1Result = {
    ...figures(r.load, r.cpu),
    credited: r.credited,
    answered204: r.answered204,
    verified: r.verified,
    peakRssMb: 0,
    meanBatch: r.meanBatch,
  };
  log(
    `${kind}: B1 ${r.load.rps.toFixed(0)}/s (${cpuNote(b1)}) p50 ${r.load.p50.toFixed(2)} ms p99 ${r.load.p99.toFixed(2)} ms, ` +
      `${r.meanBatch} callbacks per batch, ${r.answered204} answered 204, verified=${r.verified}`,
  );
  return b1;
}
