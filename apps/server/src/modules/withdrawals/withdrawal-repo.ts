import { newId } from "../../common/ids.js";
import type { Db } from "../../infra/db/database.js";
import type { WithdrawalsTable } from "../../infra/db/schema.js";
import { toWithdrawalMethod, type WithdrawalMethod } from "./withdrawal-model.js";
import type { WithdrawalStatus } from "./withdrawal-state.js";

/** Withdrawals, their decisions and their timeline; every query scoped by tenant. */
export type WithdrawalRow = WithdrawalsTable;
/** What a status change may also set. */
export type WithdrawalChange = Partial<
  Pick<
    WithdrawalRow,
    | "levels_done"
    | "client_reason"
    | "payout_reference"
    | "integration_id"
    | "transaction_id"
    | "payout_due"
    | "payout_step"
    | "needs_assistance"
  >
>;

export function createWithdrawalRepo(db: Db) {
  return {
    /** A method of the tenant (deleted ones too: a request keeps pointing at its method). */
    async method(tenantId: string, id: string): Promise<WithdrawalMethod | undefined> {
      const row = await db
        .selectFrom("withdrawal_methods")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row ? toWithdrawalMethod(row) : undefined;
    },
    async find(tenantId: string, id: string): Promise<WithdrawalRow | undefined> {
      return db
        .selectFrom("withdrawals")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
    },
    async byIdempotencyKey(
      tenantId: string,
      clientId: string,
      key: string,
    ): Promise<WithdrawalRow | undefined> {
      return db
        .selectFrom("withdrawals")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("client_id", "=", clientId)
        .where("idempotency_key", "=", key)
        .executeTakeFirst();
    },
    async insert(row: WithdrawalRow): Promise<void> {
      await db.insertInto("withdrawals").values(row).execute();
    },
    /**
     * Moves a withdrawal from one of `from` to `to` (and sets `more`), only if it is still there
     * (and, with `guard`, still at that approval level or payout lease): the conditional update
     * decides between racing decisions and callbacks. Returns whether it moved.
     */
    async move(
      tenantId: string,
      id: string,
      from: readonly WithdrawalStatus[],
      to: WithdrawalStatus,
      now: number,
      more: WithdrawalChange = {},
      guard: { levelsDone?: number; payoutDue?: number } = {},
    ): Promise<boolean> {
      let q = db
        .updateTable("withdrawals")
        .set({ status: to, updated_at: now, ...more })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("status", "in", [...from]);
      if (guard.levelsDone !== undefined) q = q.where("levels_done", "=", guard.levelsDone);
      if (guard.payoutDue !== undefined) q = q.where("payout_due", "=", guard.payoutDue);
      const res = await q.executeTakeFirst();
      return res.numUpdatedRows === 1n;
    },
    /** Sets payout fields without a status change, only while the payout still holds `lease` (or is in `status`). */
    async setPayout(
      tenantId: string,
      id: string,
      more: WithdrawalChange,
      guard: { payoutDue?: number | null; status?: readonly WithdrawalStatus[]; notStarted?: true },
      now: number,
    ): Promise<boolean> {
      let q = db
        .updateTable("withdrawals")
        .set({ ...more, updated_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id);
      if (guard.payoutDue === null) q = q.where("payout_due", "is", null);
      else if (guard.payoutDue !== undefined) q = q.where("payout_due", "=", guard.payoutDue);
      if (guard.status) q = q.where("status", "in", [...guard.status]);
      if (guard.notStarted) q = q.where("integration_id", "is", null);
      const res = await q.executeTakeFirst();
      return res.numUpdatedRows === 1n;
    },
    async byPayoutNo(payoutNo: string): Promise<WithdrawalRow | undefined> {
      return db.selectFrom("withdrawals").selectAll().where("payout_no", "=", payoutNo).executeTakeFirst();
    },
    async decisions(tenantId: string, withdrawalId: string) {
      return db
        .selectFrom("withdrawal_decisions")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("withdrawal_id", "=", withdrawalId)
        .orderBy("level")
        .execute();
    },
    async addDecision(d: {
      tenantId: string;
      withdrawalId: string;
      level: number;
      decision: "approve" | "reject";
      staffId: string;
      comment: string;
      now: number;
    }): Promise<void> {
      await db
        .insertInto("withdrawal_decisions")
        .values({
          id: newId(),
          tenant_id: d.tenantId,
          withdrawal_id: d.withdrawalId,
          level: d.level,
          decision: d.decision,
          staff_id: d.staffId,
          comment: d.comment,
          created_at: d.now,
        })
        .execute();
    },
    async addEvent(
      tenantId: string,
      withdrawalId: string,
      kind: string,
      data: object,
      now: number,
    ): Promise<void> {
      await db
        .insertInto("withdrawal_events")
        .values({
          id: newId(),
          tenant_id: tenantId,
          withdrawal_id: withdrawalId,
          kind,
          data: JSON.stringify(data),
          created_at: now,
        })
        .execute();
    },
    async events(tenantId: string, withdrawalId: string) {
      return db
        .selectFrom("withdrawal_events")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("withdrawal_id", "=", withdrawalId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },
  };
}
