import type { AppContext } from "../../app-context.js";
import { writeTransaction } from "../../infra/db/database.js";
import { settle } from "../settlement/settle.js";

export const EXPIRY_BATCH_SIZE = 500;

/**
 * Moves open deposits (pending, processing) whose `expires_at` has passed to `expired`, so no
 * order stays pending forever when its callback never comes (docs/failure-modes.md#failure-mode-6). A success that
 * arrives afterwards is kept for review, never dropped.
 *
 * Batches of `batchSize`, each one settlement in its own transaction (settlement/settle.ts):
 * the batch is read under its row locks, skipping locked rows on PostgreSQL, so several
 * processes sweeping at once split the work instead of queueing on the same rows, and a
 * callback that settles an order at the same moment wins or loses cleanly. SQLite has one
 * writer: no lock needed.
 */
export async function expireDeposits(
  ctx: Pick<AppContext, "db" | "clock">,
  opts: { batchSize?: number } = {},
): Promise<{ expired: number }> {
  const batchSize = opts.batchSize ?? EXPIRY_BATCH_SIZE;
  let expired = 0;
  for (;;) {
    const { value: batch } = await writeTransaction(ctx.db, (trx) =>
      settle(trx, ctx, { expiredBefore: ctx.clock.now(), limit: batchSize }, (planner) => {
        const rows = planner.all();
        let changed = 0;
        for (const r of rows) {
          const o = planner.apply({ tenantId: r.tenant_id, depositId: r.id, to: "expired", cause: "expiry" });
          if (o.kind === "applied") changed++;
        }
        return { value: { seen: rows.length, changed } };
      }),
    );
    expired += batch.changed;
    // A short batch is the last; an unchanged full one (cannot happen under the lock) must not spin.
    if (batch.seen < batchSize || batch.changed === 0) return { expired };
  }
}

/** The BACKGROUND_JOBS entry (main.ts). */
export async function expireDepositsJob(ctx: Pick<AppContext, "db" | "clock" | "logger">) {
  const { expired } = await expireDeposits(ctx);
  if (expired > 0) ctx.logger.info({ expired }, "expired deposits");
}
