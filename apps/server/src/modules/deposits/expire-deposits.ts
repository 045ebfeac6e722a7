import type { AppContext } from "../../app-context.js";
import { hasRowLocks, writeTransaction } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { insertDepositEvent } from "./deposit-repo.js";
import { sourcesOf } from "./deposit-state.js";

export const EXPIRY_BATCH_SIZE = 500;

/**
 * Moves open deposits (pending, processing) whose `expires_at` has passed to `expired`, so no
 * order stays pending forever when its callback never comes (failure mode 6). A success that
 * arrives afterwards is kept for review, never dropped.
 *
 * Batches of `batchSize`, each in its own transaction: the status change is a conditional
 * update (`… AND status IN ('pending','processing')`), so a callback that settles the order
 * at the same moment wins or loses cleanly. On PostgreSQL the batch is selected
 * `FOR UPDATE SKIP LOCKED`, so several processes sweeping at once split the work instead of
 * queueing on the same rows; each row's status is read under its lock, which makes the
 * status_change event's `from` exact. SQLite has one writer: no lock needed.
 */
export async function expireDeposits(
  ctx: Pick<AppContext, "db" | "clock">,
  opts: { batchSize?: number } = {},
): Promise<{ expired: number }> {
  const batchSize = opts.batchSize ?? EXPIRY_BATCH_SIZE;
  const sources = sourcesOf("expired");
  let expired = 0;
  for (;;) {
    const now = ctx.clock.now();
    const batch = await writeTransaction(ctx.db, async (trx) => {
      let q = trx
        .selectFrom("deposits")
        .select(["id", "tenant_id", "status"])
        .where("status", "in", sources)
        .where("expires_at", "<", now)
        .orderBy("expires_at")
        .limit(batchSize);
      if (hasRowLocks(trx)) q = q.forUpdate().skipLocked();
      const rows = await q.execute();
      if (rows.length === 0) return { seen: 0, changed: 0 };
      const changed = await trx
        .updateTable("deposits")
        .set({ status: "expired", updated_at: now, finalized_at: now })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .where("status", "in", sources)
        .returning(["id"])
        .execute();
      const from = new Map<string, { tenantId: string; status: DepositStatus }>(
        rows.map((r) => [r.id, { tenantId: r.tenant_id, status: r.status }]),
      );
      for (const { id } of changed) {
        const r = from.get(id)!;
        await insertDepositEvent(trx, {
          tenantId: r.tenantId,
          depositId: id,
          now,
          event: {
            kind: "status_change",
            data: { from: r.status, to: "expired", cause: "expiry" },
          },
        });
      }
      return { seen: rows.length, changed: changed.length };
    });
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
