import { PAYOUT_CALLBACK_PATH } from "@psphub/protocol";
import {
  createPayoutMethod,
  insertPayingWithdrawals,
  paidOnce,
  paidPayoutBodies,
  payoutSettlements,
} from "../tests/support/payouts.js";
import type { PsphubProcess } from "../tests/support/processes.js";
import { type DbKind, orderNo, type ScratchDb, seed, walletMismatches } from "../tests/support/seed.js";
import { callbackHeaders, ordersFor } from "./lib/callbacks.js";
import { cpuMeter, cpuNote, type Figures, figures, log, round } from "./lib/figures.js";
import { runLoad } from "./lib/load.js";
import type { Settings } from "./lib/settings.js";

/** API-5's route in psphub: CRM_Callback_URL (`/api/psp`) + `/payout/callback`. */
export const PAYOUT_CALLBACK_ROUTE = `/api/psp${PAYOUT_CALLBACK_PATH}`;

export type B7Result = Figures & {
  /** Withdrawals `paying` when the run started (its bound on requests). */
  payoutsReady: number;
  /** Payouts paid by the run (each debited once). */
  paid: number;
  answered204: number;
  verified: boolean;
  peakRssMb: number;
};

/**
 * B7: B1's method for API-5, the payout callback (docs/psp-open-api.md#api-5). A database of its
 * own holds withdrawals already `paying` through one integration (tests/support/payouts.ts:
 * inserted in bulk with their holds, the next status query a day away, so the payout job never
 * touches them); distinct "paid" callbacks, one pre-signed body per payout, at the run's
 * connections for its duration after a warm-up on other payouts, on a fresh server. Reported
 * against the baseline measured before the database's runs, beside B1. Verified: every payout
 * answered 204 is paid with exactly one hold, release and debit of its amount; no payout debited
 * twice; every wallet's balance and held amount equal their ledger sums.
 */
export async function runB7(
  settings: Settings,
  kind: DbKind,
  db: ScratchDb,
  startServer: () => Promise<PsphubProcess>,
): Promise<B7Result> {
  const s = await seed(db, { clients: 1_000 });
  const methodId = await createPayoutMethod(db, s);
  const due = Date.now() + 86_400_000;
  const WARM = 30_000;
  let t = performance.now();
  await insertPayingWithdrawals(db, s, methodId, { prefix: "v", count: WARM, payoutDue: due });
  log(
    `${kind}: B7: ${WARM} withdrawals paying for the warm-up, inserted in ${Math.round(performance.now() - t)} ms`,
  );
  const server = await startServer();
  let peakRssMb = Number.NaN;
  try {
    const headers = callbackHeaders(s);
    const warmBodies = paidPayoutBodies(s, "v", WARM);
    const warm = await runLoad({
      url: server.url,
      path: PAYOUT_CALLBACK_ROUTE,
      headers,
      body: (i) => warmBodies[i],
      connections: settings.connections,
      durationS: settings.warmupS,
      maxRequests: WARM,
    });
    log(`${kind}: B7 warm-up ${warm.requests} payout callbacks at ${warm.rps.toFixed(0)}/s`);
    const n = ordersFor(settings, warm.rps);
    t = performance.now();
    await insertPayingWithdrawals(db, s, methodId, { prefix: "p", count: n, payoutDue: due });
    log(
      `${kind}: B7: ${n} withdrawals paying, inserted in ${Math.round(performance.now() - t)} ms; ` +
        `${settings.connections} connections, ${settings.durationS} s`,
    );
    const bodies = paidPayoutBodies(s, "p", n);
    const statusOf = new Int16Array(n);
    const meter = cpuMeter(server, kind);
    const load = await runLoad({
      url: server.url,
      path: PAYOUT_CALLBACK_ROUTE,
      headers,
      body: (i) => bodies[i],
      connections: settings.connections,
      durationS: settings.durationS,
      maxRequests: n,
      onResponse: (i, status) => {
        statusOf[i] = status;
      },
    });
    const cpu = meter();
    peakRssMb = server.peakRssMb();

    const settled = await payoutSettlements(db, "p");
    let answered204 = 0;
    let bad = 0;
    let paid = 0;
    for (const p of settled.values()) {
      // Paid or still paying, never anything in between: one release and one debit, or none.
      if (p.status === "paid") {
        paid++;
        if (!paidOnce(p)) bad++;
      } else if (p.status !== "paying" || p.holds !== 1 || p.releases !== 0 || p.debits !== 0) bad++;
    }
    for (let i = 0; i < n; i++)
      if (statusOf[i] === 204) {
        answered204++;
        if (!paidOnce(settled.get(orderNo("p", i)))) bad++;
      }
    const mismatches = await walletMismatches(db);
    const verified = settled.size === n && bad === 0 && mismatches.length === 0 && answered204 > 0;
    if (!verified)
      log(`VERIFY FAILED B7: payouts=${settled.size}/${n} bad=${bad} walletMismatches=${mismatches.length}`);
    const r: B7Result = {
      ...figures(load, cpu),
      payoutsReady: n,
      paid,
      answered204,
      verified,
      peakRssMb: round(peakRssMb, 1)!,
    };
    log(
      `${kind}: B7 ${load.rps.toFixed(0)}/s (${cpuNote(r)}) p50 ${load.p50.toFixed(2)} ms p99 ${load.p99.toFixed(2)} ms, ` +
        `${answered204} answered 204, ${paid} paid, verified=${verified}`,
    );
    return r;
  } finally {
    await server.stop();
  }
}
