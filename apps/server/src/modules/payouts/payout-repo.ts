import type { Db } from "../../infra/db/database.js";
import { claimDue, claimStatement } from "../../infra/jobs/job-claim.js";
import type { WithdrawalMethod } from "../withdrawals/withdrawal-model.js";
import { createWithdrawalRepo, type WithdrawalRow } from "../withdrawals/withdrawal-repo.js";

/**
 * The payout job's rows (infra/jobs/job-claim.ts): a withdrawal whose `payout_due` is due is
 * claimed by moving it to a lease; the step ends with a compare-and-set on that lease.
 */

const CLAIM = claimStatement({
  table: "withdrawals",
  due: "payout_due",
  where: "job.status IN ('approved', 'paying')",
});

/** What a payout step needs: the withdrawal, its method, and its integration's backend. */
export type PayoutTarget = {
  w: WithdrawalRow;
  method: WithdrawalMethod | undefined;
  integ: {
    merchantId: string;
    appUrl: string;
    tokenEnc: string;
    enabled: boolean;
    timeoutMs: number;
    schedule: string | null;
  } | null;
};

export async function claimDuePayouts(
  db: Db,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<{ ids: string[]; lease: number }> {
  return claimDue(db, CLAIM, now, limit, leaseMs);
}

export async function payoutTarget(db: Db, id: string, tenantId?: string): Promise<PayoutTarget | undefined> {
  let q = db.selectFrom("withdrawals").selectAll().where("id", "=", id);
  if (tenantId !== undefined) q = q.where("tenant_id", "=", tenantId);
  const w = await q.executeTakeFirst();
  if (!w) return undefined;
  const method = await createWithdrawalRepo(db).method(w.tenant_id, w.method_id);
  const integrationId = w.integration_id ?? method?.integrationId ?? null;
  const i = integrationId
    ? await db
        .selectFrom("psp_integrations")
        .select([
          "merchant_id",
          "app_url",
          "token_enc",
          "enabled",
          "api1_timeout_ms",
          "status_query_schedule",
        ])
        .where("tenant_id", "=", w.tenant_id)
        .where("id", "=", integrationId)
        .executeTakeFirst()
    : undefined;
  return {
    w,
    method,
    integ: i
      ? {
          merchantId: i.merchant_id,
          appUrl: i.app_url,
          tokenEnc: i.token_enc,
          enabled: i.enabled === 1,
          timeoutMs: i.api1_timeout_ms,
          schedule: i.status_query_schedule,
        }
      : null,
  };
}
