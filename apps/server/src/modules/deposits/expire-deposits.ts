import type { AppContext } from "../../app-context.js";
import { createLimiter } from "../../infra/concurrency/limiter.js";
import { writeTransaction } from "../../infra/db/database.js";
import { settle } from "../settlement/settle.js";
import { runStatusQuery, type StatusQueryDeps } from "../status-query/query-status.js";
import { findExpiringQueryTargets } from "../status-query/status-query-repo.js";

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
  opts: {
    batchSize?: number;
    /** Given, orders of integrations with API-3 on are queried first (see {@link queryBeforeExpiry}). */
    queryFirst?: StatusQueryDeps & { concurrency: number };
  } = {},
): Promise<{ expired: number }> {
  const batchSize = opts.batchSize ?? EXPIRY_BATCH_SIZE;
  if (opts.queryFirst) await queryBeforeExpiry(opts.queryFirst, batchSize);
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

/**
 * API-3 at expiry (docs/psp-open-api.md#api-3-status-query): every open order past its TTL whose
 * integration has API-3 on is queried once (outside any transaction, `concurrency` at a time),
 * and its answer applied, before the sweep expires what is still open: an order the backend
 * reports as paid is credited, never expired. An order the sweep then expires keeps its
 * schedule (a payment page opened earlier can still be paid).
 */
export async function queryBeforeExpiry(
  deps: StatusQueryDeps & { concurrency: number },
  limit: number,
): Promise<number> {
  const targets = await findExpiringQueryTargets(deps.db, deps.clock.now(), limit);
  const limiter = createLimiter({ concurrency: Math.max(1, deps.concurrency), maxQueue: targets.length });
  await Promise.all(targets.map((t) => limiter.run(() => runStatusQuery(deps, t, "expiry", null))));
  return targets.length;
}

/** The BACKGROUND_JOBS entry (main.ts). */
export async function expireDepositsJob(ctx: AppContext) {
  const { expired } = await expireDeposits(ctx, {
    queryFirst: { ...ctx, concurrency: Math.max(1, ctx.config.statusQueryConcurrency) },
  });
  if (expired > 0) ctx.logger.info({ expired }, "expired deposits");
}
