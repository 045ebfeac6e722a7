import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../common/errors.js";
import { writeTransaction } from "../../infra/db/database.js";
import type { DepositsTable } from "../../infra/db/schema.js";
import { depositRow, insertDeposit, ledgerEntriesOf } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { settleResult } from "./settle.js";
import { planSettlement, type SettlementResult } from "./settlement-planner.js";
import { readOrders, writeSettlement } from "./settlement-store.js";

// THE guarded transition of deposits.status, tested once for every path that moves a deposit:
// what each cause sets, and that a deposit changed since it was read is refused with nothing
// written.

let t: TestApp;
let fx: PaymentFixture;
const NOW = 1_700_000_000_000;

beforeAll(async () => {
  t = await createTestApp({ clock: { now: () => NOW } });
  const { tenantId } = await createTenant(t.ctx, {
    slug: "settlement-store",
    name: "Settlement Store",
    owner: { email: "owner@settlement-store.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

const COLUMNS = [
  "status",
  "updated_at",
  "finalized_at",
  "credit_minor",
  "paid_amount_minor",
  "transaction_id",
  "psp_time",
  "failure_reason",
  "failure_message",
] as const;
type Columns = Pick<DepositsTable, (typeof COLUMNS)[number]>;
const pick = (row: DepositsTable): Columns =>
  Object.fromEntries(COLUMNS.map((c) => [c, row[c]])) as unknown as Columns;

/** An order as a test inserts it: created at 1, with an earlier failure's reason and message. */
const BEFORE: Partial<DepositsTable> = {
  updated_at: 1,
  failure_reason: "earlier",
  failure_message: "Earlier message",
};
const UNCHANGED: Omit<Columns, "status" | "finalized_at"> = {
  updated_at: NOW,
  credit_minor: 9_720,
  paid_amount_minor: null,
  transaction_id: null,
  psp_time: null,
  failure_reason: "earlier",
  failure_message: "Earlier message",
};

type Case = {
  cause: string;
  from: DepositsTable["status"];
  result: Omit<SettlementResult, "tenantId" | "depositId">;
  sets: Partial<Columns>;
};
const CASES: Case[] = [
  {
    cause: "API-2 success (another amount paid, credited)",
    from: "pending",
    result: {
      to: "succeeded",
      cause: "callback",
      creditMinor: 11_700n,
      paidAmountMinor: 12_000n,
      transactionId: "tx-1",
      pspTime: 123,
    },
    sets: {
      status: "succeeded",
      finalized_at: NOW,
      credit_minor: 11_700,
      paid_amount_minor: 12_000,
      transaction_id: "tx-1",
      psp_time: 123,
      failure_reason: null,
      failure_message: null,
    },
  },
  {
    cause: "API-2 processing",
    from: "pending",
    result: { to: "processing", cause: "callback", paidAmountMinor: 10_000n, pspTime: 5 },
    sets: { status: "processing", finalized_at: null, paid_amount_minor: 10_000, psp_time: 5 },
  },
  {
    cause: "API-2 failure",
    from: "processing",
    result: { to: "failed", cause: "callback", failureReason: "psp_reported_failure", transactionId: "tx-2" },
    sets: {
      status: "failed",
      finalized_at: NOW,
      transaction_id: "tx-2",
      failure_reason: "psp_reported_failure",
    },
  },
  {
    cause: "manual approval",
    from: "processing",
    result: { to: "succeeded", cause: "manual" },
    sets: { status: "succeeded", finalized_at: NOW, failure_reason: null, failure_message: null },
  },
  {
    cause: "manual rejection",
    from: "pending",
    result: { to: "failed", cause: "manual", failureReason: "rejected_by_staff" },
    sets: { status: "failed", finalized_at: NOW, failure_reason: "rejected_by_staff" },
  },
  {
    cause: "review credit of a late success",
    from: "expired",
    result: { to: "succeeded", cause: "review", paidAmountMinor: 10_000n, allowFrom: ["expired"] },
    sets: {
      status: "succeeded",
      finalized_at: NOW,
      paid_amount_minor: 10_000,
      failure_reason: null,
      failure_message: null,
    },
  },
  {
    cause: "cancel",
    from: "processing",
    result: { to: "cancelled", cause: "cancel" },
    sets: { status: "cancelled", finalized_at: NOW },
  },
  {
    cause: "API-1 failure",
    from: "pending",
    result: {
      to: "failed",
      cause: "api1",
      onlyFrom: ["pending"],
      failureReason: "timeout",
      failureMessage: "The provider is unavailable",
    },
    sets: {
      status: "failed",
      finalized_at: NOW,
      failure_reason: "timeout",
      failure_message: "The provider is unavailable",
    },
  },
  {
    cause: "expiry",
    from: "pending",
    result: { to: "expired", cause: "expiry" },
    sets: { status: "expired", finalized_at: NOW },
  },
];

describe("the guarded transition", () => {
  for (const c of CASES) {
    it(`${c.cause}: ${c.from} → ${c.result.to} sets exactly its columns`, async () => {
      const dep = await insertDeposit(t.ctx, fx, {
        ...BEFORE,
        status: c.from,
        finalized_at: c.from === "expired" ? 1 : null,
      });
      const outcome = await writeTransaction(t.ctx.db, (trx) =>
        settleResult(trx, t.ctx, { tenantId: fx.tenantId, depositId: dep.id, ...c.result }),
      );
      expect(outcome).toMatchObject({ kind: "applied", from: c.from, to: c.result.to });
      expect(pick(await depositRow(t.ctx, dep.id))).toEqual({ ...UNCHANGED, ...c.sets });
      const credits = await ledgerEntriesOf(t.ctx, dep.id);
      expect(credits.map((e) => Number(e.amount_minor))).toEqual(
        c.result.to === "succeeded" ? [c.sets.credit_minor ?? 9_720] : [],
      );
    });
  }

  it("refuses a deposit changed since it was read: the settlement fails and writes nothing", async () => {
    const dep = await insertDeposit(t.ctx, fx, BEFORE);
    // Read (and planned) as pending…
    const orders = await readOrders(t.ctx.db, { ids: [dep.id] });
    const planner = planSettlement(orders, NOW);
    expect(
      planner.apply({ tenantId: fx.tenantId, depositId: dep.id, to: "succeeded", cause: "callback" }),
    ).toMatchObject({
      kind: "applied",
    });
    // …then another process moved it first.
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "processing", updated_at: 2 })
      .where("id", "=", dep.id)
      .execute();
    const before = await depositRow(t.ctx, dep.id);
    const eventsBefore = await t.ctx.db
      .selectFrom("deposit_events")
      .select("id")
      .where("deposit_id", "=", dep.id)
      .execute();

    const write = writeTransaction(t.ctx.db, (trx) => writeSettlement(trx, planner.writes()));
    await expect(write).rejects.toBeInstanceOf(ConflictError);
    await expect(write).rejects.toMatchObject({ code: "concurrent_change" });

    expect(await depositRow(t.ctx, dep.id)).toEqual(before);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
    const eventsAfter = await t.ctx.db
      .selectFrom("deposit_events")
      .select("id")
      .where("deposit_id", "=", dep.id)
      .execute();
    expect(eventsAfter).toEqual(eventsBefore);
  });
});
