import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTransaction } from "../../infra/db/database.js";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { untilSomeoneWaitsOnALock } from "../../test/lock-waits.js";
import { insertClient, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { settleResult } from "../settlement/settle.js";
import { transactionRetryingRaces } from "../settlement/settlement-store.js";

// A person's credit (manual approval, review resolution) that is a client's first in its currency,
// while another transaction creates the same wallet: on PostgreSQL the credit planned a new
// wallet, and its entry failed `ledger_entries_wallet_id_fkey` (the admin got a 500). It is run
// again, audit record and all, and answers 200. SQLite has one writer: the race cannot happen
// there, and the same tests check the plain path.

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t, "manual-race");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/**
 * Runs `request` while another transaction credits `other` (the client's first credit: it
 * creates the wallet) and stays open until the request waits on that wallet.
 */
async function whileAnotherCreatesTheWallet<R>(other: TestDeposit, request: () => Promise<R>): Promise<R> {
  let answer: Promise<R> | undefined;
  await writeTransaction(t.ctx.db, async (trx) => {
    await settleResult(trx, t.ctx, {
      tenantId: fx.tenantId,
      depositId: other.id,
      to: "succeeded",
      cause: "callback",
    });
    answer = request();
    // An answer before any lock wait would be a path that never races: fail on it, not hang.
    await Promise.race([
      untilSomeoneWaitsOnALock(t.ctx, "the request waiting on the open transaction's wallet"),
      answer,
    ]);
  });
  return answer as Promise<R>;
}

async function walletsOf(clientId: string) {
  return t.ctx.db
    .selectFrom("wallets")
    .select(["id", "balance_minor"])
    .where("client_id", "=", clientId)
    .execute();
}

async function auditOf(targetId: string) {
  return t.ctx.db.selectFrom("audit_log").select(["action"]).where("target_id", "=", targetId).execute();
}

describe("a person's credit while another transaction creates the client's wallet", () => {
  it("manual approval answers 200: one wallet, one credit, one audit record", async () => {
    const { clientId } = await insertClient(t.ctx, fx.tenantId);
    const other = await insertDeposit(t.ctx, fx, { client_id: clientId });
    const mine = await insertDeposit(t.ctx, fx, { client_id: clientId, status: "processing" });

    const res = await whileAnotherCreatesTheWallet(other, () =>
      tenant.finance.post(`/api/admin/deposits/${mine.id}/approve`, { comment: "Statement checked" }),
    );
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({
      status: 200,
      body: { status: "succeeded", ledgerEntryId: expect.any(String) },
    });
    expect((await depositRow(t.ctx, mine.id)).status).toBe("succeeded");
    expect((await ledgerEntriesOf(t.ctx, mine.id)).map((e) => e.amount_minor)).toEqual([9_720]);
    expect(await walletsOf(clientId)).toHaveLength(1);
    expect(await walletBalance(t.ctx, clientId)).toBe(2n * 9_720n);
    expect(await auditOf(mine.id)).toEqual([{ action: "deposit.approve" }]);
  });

  it("a settlement run with transactionRetryingRaces applies the credit: one wallet, one credit", async () => {
    const { clientId } = await insertClient(t.ctx, fx.tenantId);
    const other = await insertDeposit(t.ctx, fx, { client_id: clientId });
    const mine = await insertDeposit(t.ctx, fx, { client_id: clientId });

    const outcome = await whileAnotherCreatesTheWallet(other, () =>
      transactionRetryingRaces(t.ctx, (trx) =>
        settleResult(trx, t.ctx, {
          tenantId: fx.tenantId,
          depositId: mine.id,
          to: "succeeded",
          cause: "callback",
        }),
      ),
    );
    expect(outcome).toMatchObject({ kind: "applied", from: "pending", to: "succeeded" });
    expect((await ledgerEntriesOf(t.ctx, mine.id)).map((e) => e.amount_minor)).toEqual([9_720]);
    expect(await walletsOf(clientId)).toHaveLength(1);
    expect(await walletBalance(t.ctx, clientId)).toBe(2n * 9_720n);
  });

  it("review credit answers 200: one wallet, one credit, one audit record, the item resolved", async () => {
    const { clientId } = await insertClient(t.ctx, fx.tenantId);
    const other = await insertDeposit(t.ctx, fx, { client_id: clientId });
    // A late success kept for review: the order expired, then the PSP reported the payment.
    const late = await insertDeposit(t.ctx, fx, { client_id: clientId, status: "expired", finalized_at: 1 });
    expect((await sendSignedCallback(t.app, fx, late)).json().type).toBe("payment_status_not_pending");
    const item = await t.ctx.db
      .selectFrom("review_items")
      .select("id")
      .where("deposit_id", "=", late.id)
      .executeTakeFirstOrThrow();

    const res = await whileAnotherCreatesTheWallet(other, () =>
      tenant.admin.post(`/api/admin/review/${item.id}/resolve`, { action: "credit", comment: "Paid late" }),
    );
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({
      status: 200,
      body: { ledgerEntryId: expect.any(String) },
    });
    expect((await depositRow(t.ctx, late.id)).status).toBe("succeeded");
    expect((await ledgerEntriesOf(t.ctx, late.id)).map((e) => e.amount_minor)).toEqual([9_720]);
    expect(await walletsOf(clientId)).toHaveLength(1);
    expect(await walletBalance(t.ctx, clientId)).toBe(2n * 9_720n);
    expect(await auditOf(item.id)).toEqual([{ action: "review.resolve" }]);
    const resolved = await t.ctx.db
      .selectFrom("review_items")
      .select(["status", "resolution"])
      .where("id", "=", item.id)
      .executeTakeFirstOrThrow();
    expect(resolved).toEqual({ status: "resolved", resolution: "credit" });
  });
});
