import { type JobLoop, startJobLoop } from "../../infra/jobs/job-loop.js";
import { claimDuePayouts, payoutTarget } from "./payout-repo.js";
import { type PayoutDeps, runPayoutStep } from "./payout-step.js";

/**
 * The payout job (docs/withdrawals.md#payouts): a loop in every server process claims the
 * withdrawals whose payout step is due (infra/jobs/job-claim.ts: a lease, no transaction held
 * while the backend is called) and runs each step. A claim whose process died comes back once
 * its lease has passed, and API-4 is idempotent by `payout_no`, so a step run twice pays nothing
 * twice.
 */

/** The longest API-4 or status query an integration may set (60 s), plus a margin. */
export const PAYOUT_LEASE_MS = 90_000;

/** Claims up to `limit` due payouts and runs their steps; resolves when all are done. */
export async function runDuePayouts(
  deps: PayoutDeps,
  limit: number,
  leaseMs = PAYOUT_LEASE_MS,
): Promise<number> {
  const { ids, lease } = await claimDuePayouts(deps.db, deps.clock.now(), limit, leaseMs);
  await Promise.all(ids.map((id) => runClaimed(deps, id, lease)));
  return ids.length;
}

async function runClaimed(deps: PayoutDeps, id: string, lease: number): Promise<void> {
  try {
    const t = await payoutTarget(deps.db, id);
    if (t) await runPayoutStep(deps, t, lease);
  } catch (err) {
    // The lease brings it back: the step runs again once the lease has passed.
    deps.logger.error({ err, withdrawalId: id }, "payout step failed");
  }
}

export function startPayoutWorker(
  deps: PayoutDeps,
  opts: { pollMs: number; concurrency: number; leaseMs?: number },
): JobLoop {
  const leaseMs = opts.leaseMs ?? PAYOUT_LEASE_MS;
  return startJobLoop({
    pollMs: opts.pollMs,
    concurrency: opts.concurrency,
    claim: async (free) => {
      const { ids, lease } = await claimDuePayouts(deps.db, deps.clock.now(), free, leaseMs);
      return ids.map((id) => ({ id, lease }));
    },
    run: (c) => runClaimed(deps, c.id, c.lease),
    onClaimError: (err) => deps.logger.error({ err }, "payout claim failed"),
  });
}
