import type { PsphubProcess } from "../../tests/support/processes.js";
import {
  creditTotals,
  ORDER,
  orderCredits,
  type ScratchDb,
  type Seed,
  successBodies,
  walletMismatches,
} from "../../tests/support/seed.js";
import { type Cpu, cpuMeter, log, round } from "./figures.js";
import { type LoadResult, runLoad } from "./load.js";
import type { Settings } from "./settings.js";

/** API-2 callbacks under load, shared by the baseline, B1, B2 and B4. */

export const CALLBACK_PATH = "/api/psp/pay/callback";

export const callbackHeaders = (s: Pick<Seed, "token">) => ({
  "content-type": "application/json",
  "crm-pay-token": s.token,
});

/** B1 (and B4): distinct success callbacks at concurrency 64; verify each 204 credited once. */
export async function callbackRun(
  settings: Settings,
  server: PsphubProcess,
  db: ScratchDb,
  s: Seed,
  prefix: string,
  ordersReady: number,
): Promise<{
  load: LoadResult;
  cpu: Cpu;
  verified: boolean;
  credited: number;
  answered204: number;
  /** Callbacks per batch (group commit), on average over the run. */
  meanBatch: number;
}> {
  const bodies = successBodies(s, prefix, ordersReady);
  const statusOf = new Int16Array(ordersReady);
  const batchesBefore = await callbackBatches(server);
  const meter = cpuMeter(server, db.kind);
  const load = await runLoad({
    url: server.url,
    path: CALLBACK_PATH,
    headers: callbackHeaders(s),
    body: (i) => bodies[i],
    connections: settings.connections,
    durationS: settings.durationS,
    maxRequests: ordersReady,
    onResponse: (i, status) => {
      statusOf[i] = status;
    },
  });
  const cpu = meter();
  const batchesAfter = await callbackBatches(server);
  const meanBatch = round(
    (batchesAfter.sum - batchesBefore.sum) / Math.max(1, batchesAfter.count - batchesBefore.count),
    1,
  )!;
  const credits = await orderCredits(db, prefix);
  let answered204 = 0;
  let bad = 0;
  let credited = 0;
  for (let i = 0; i < ordersReady; i++) {
    const c = credits.get(bodiesOrderNo(bodies[i]!));
    if (c && c.credits > 1) bad++;
    if (c && c.credits === 1) credited++;
    if (statusOf[i] === 204) {
      answered204++;
      if (c?.credits !== 1 || c.status !== "succeeded" || c.credited !== ORDER.creditMinor) bad++;
    }
  }
  const totals = await creditTotals(db);
  const mismatches = await walletMismatches(db);
  const verified = bad === 0 && totals.doubles === 0 && mismatches.length === 0 && answered204 > 0;
  if (!verified)
    log(
      `VERIFY FAILED ${prefix}: bad=${bad} doubles=${totals.doubles} walletMismatches=${mismatches.length}`,
    );
  return { load, cpu, verified, credited, answered204, meanBatch };
}

/** The server's count and sum of API-2 batch sizes so far (its /metrics histogram). */
async function callbackBatches(server: PsphubProcess): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const of = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { count: of("psphub_callback_batch_size_count"), sum: of("psphub_callback_batch_size_sum") };
}

const bodiesOrderNo = (body: string) => /"order_no":"([^"]+)"/.exec(body)![1]!;

/** A short run on its own orders so the server's JIT and caches are warm before measuring. */
export async function warmUp(
  settings: Settings,
  server: PsphubProcess,
  s: Seed,
  prefix: string,
  count: number,
): Promise<LoadResult> {
  const bodies = successBodies(s, prefix, count);
  return runLoad({
    url: server.url,
    path: CALLBACK_PATH,
    headers: callbackHeaders(s),
    body: (i) => bodies[i],
    connections: settings.connections,
    durationS: settings.warmupS,
    maxRequests: count,
  });
}

/** Orders enough for a run at `rps` for the run's duration, with a wide margin (the run stops at either bound). */
export const ordersFor = (settings: Settings, rps: number) =>
  Math.max(5_000, Math.ceil(rps * settings.durationS * 2.5));
