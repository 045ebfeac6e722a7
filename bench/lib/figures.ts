import { readdirSync, readFileSync } from "node:fs";
import { type PsphubProcess, statCpuMs } from "../../tests/support/processes.js";
import type { DbKind } from "../../tests/support/seed.js";
import type { LoadResult } from "./load.js";

/** A run's figures, their CPU cost, and the log line every benchmark writes. */

export const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
export const round = (n: number, d = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);

export type Figures = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Server CPU time (user + system) per answered request, µs. */
  cpuUsPerReq?: number;
  /** PostgreSQL's CPU time (all its processes) per answered request, µs: the database's share. */
  dbCpuUsPerReq?: number;
  statuses: Record<string, number>;
  /** Requests that got no answer at all (connection errors, timeouts): not in the latencies. */
  unanswered: number;
};

/** CPU time spent over a run, ms: the server's, and PostgreSQL's when it is the database. */
export type Cpu = { serverMs: number; dbMs?: number };

/** The CPU of two runs together. */
export const addCpu = (a: Cpu, b: Cpu): Cpu => ({
  serverMs: a.serverMs + b.serverMs,
  ...(a.dbMs !== undefined && b.dbMs !== undefined ? { dbMs: a.dbMs + b.dbMs } : {}),
});

/**
 * CPU time of PostgreSQL on this machine, ms: every live postgres process (backends, WAL
 * writer, checkpointer, autovacuum) and every one that has exited (a closed connection, an
 * autovacuum worker: the postmaster reaps them, so their time is in its children's counters).
 * The difference over a run is the database's share of the work.
 */
function postgresCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.includes("(postgres)")) total += statCpuMs(stat, true);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Starts measuring; the function returned gives the CPU spent since. */
export function cpuMeter(server: { cpuMs(): number }, kind?: DbKind): () => Cpu {
  const read = (): Cpu => ({
    serverMs: server.cpuMs(),
    ...(kind === "postgres" ? { dbMs: postgresCpuMs() } : {}),
  });
  const start = read();
  return () => {
    const end = read();
    return {
      serverMs: end.serverMs - start.serverMs,
      ...(start.dbMs !== undefined && end.dbMs !== undefined ? { dbMs: end.dbMs - start.dbMs } : {}),
    };
  };
}

const perRequestUs = (ms: number, r: LoadResult) => round((ms * 1000) / Math.max(1, r.requests), 0)!;
export const figures = (r: LoadResult, cpu?: Cpu): Figures => ({
  rps: round(r.rps, 0)!,
  ...(cpu ? { cpuUsPerReq: perRequestUs(cpu.serverMs, r) } : {}),
  ...(cpu?.dbMs !== undefined ? { dbCpuUsPerReq: perRequestUs(cpu.dbMs, r) } : {}),
  p50: round(r.p50)!,
  p99: round(r.p99)!,
  requests: r.requests,
  statuses: r.statuses,
  unanswered: r.errors + r.timeouts,
});

/** Figures with their p50 and p99 over a floor (B3: the stub called the same way). */
export type Added = Figures & { addedP50: number; addedP99: number };
export const over = (f: Figures, floor: Figures | undefined): Added => ({
  ...f,
  addedP50: floor ? round(f.p50 - floor.p50)! : Number.NaN,
  addedP99: floor ? round(f.p99 - floor.p99)! : Number.NaN,
});

/** "N µs CPU/req", with PostgreSQL's share when it was measured. */
export const cpuNote = (f: Figures) =>
  `${f.cpuUsPerReq ?? "–"} µs CPU/req` +
  (f.dbCpuUsPerReq !== undefined ? ` (+ PostgreSQL ${f.dbCpuUsPerReq} µs)` : "");

/** A run's figures with the server's (and PostgreSQL's) CPU over it. */
export async function measured(
  server: PsphubProcess,
  kind: DbKind,
  run: () => Promise<LoadResult>,
): Promise<Figures> {
  const cpu = cpuMeter(server, kind);
  const r = await run();
  return figures(r, cpu());
}
