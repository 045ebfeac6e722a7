import type { PsphubProcess } from "../tests/support/processes.js";
import { insertOrders, ORDER, orderCredits, successBodies, walletMismatches } from "../tests/support/seed.js";
import { CALLBACK_PATH, callbackHeaders } from "./lib/callbacks.js";
import { cpuMeter, type Figures, figures, log } from "./lib/figures.js";
import { runLoad } from "./lib/load.js";
import type { BenchTarget } from "./lib/settings.js";

export const B2_ORDERS = 200;
const B2_CALLBACKS = 20_000;

export type B2Result = Figures & {
  credits: number;
  ledgerSum: number;
  expectedSum: number;
  verified: boolean;
};

/**
 * B2: a duplicate storm. B2_CALLBACKS success callbacks over B2_ORDERS orders (each order's body
 * about 100 times); every order must end credited exactly once.
 */
export async function runB2(t: BenchTarget, server: PsphubProcess): Promise<B2Result> {
  const { settings, kind, db, seed: s } = t;
  await insertOrders(db, s, { prefix: "d", count: B2_ORDERS, kind: "pending" });
  const bodies = successBodies(s, "d", B2_ORDERS);
  const cpu = cpuMeter(server, kind);
  // Each order's body about 100 times, interleaved so that duplicates of one order overlap.
  const load = await runLoad({
    url: server.url,
    path: CALLBACK_PATH,
    headers: callbackHeaders(s),
    body: (i) => bodies[i % B2_ORDERS],
    connections: settings.connections,
    durationS: 120,
    maxRequests: B2_CALLBACKS,
  });
  const credits = await orderCredits(db, "d");
  let creditsN = 0;
  let sum = 0;
  let wrong = 0;
  for (const c of credits.values()) {
    creditsN += c.credits;
    sum += c.credited;
    if (c.credits !== 1 || c.status !== "succeeded") wrong++;
  }
  const expectedSum = B2_ORDERS * ORDER.creditMinor;
  const verified =
    creditsN === B2_ORDERS && sum === expectedSum && wrong === 0 && (await walletMismatches(db)).length === 0;
  const b2: B2Result = {
    ...figures(load, cpu()),
    credits: creditsN,
    ledgerSum: sum,
    expectedSum,
    verified,
  };
  log(
    `${kind}: B2 ${load.requests} callbacks over ${B2_ORDERS} orders at ${load.rps.toFixed(0)}/s: ` +
      `${creditsN} credits, ledger ${sum} (expected ${expectedSum}), verified=${verified}`,
  );
  return b2;
}
