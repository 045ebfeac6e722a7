import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../common/ids.js";
import { type Db, isLedgerCreditViolation } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { depositRow, insertDeposit, ledgerEntriesOf, walletBalance } from "../../test/callback-client.js";
import { ensureWallet } from "../../test/ledger-postings.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { canTransition, DEPOSIT_STATUSES } from "../deposits/deposit-state.js";
import { createTenant } from "../tenants/create-tenant.js";
import { settleResult } from "./settle.js";
import type { ResultStatus, SettlementOutcome, SettlementResult } from "./settlement-planner.js";
import { transactionRetryingRaces } from "./settlement-store.js";

let t: TestApp;
let fx: PaymentFixture;

/**
 * One result in a transaction of its own, as the use-cases run it (manual-resolution.ts,
 * resolve-review.ts): run again on a race, the ledger's unique guard taken for a repeat.
 * `within` writes more in the same transaction.
 */
async function settleAlone(
  ctx: TestApp["ctx"],
  result: SettlementResult,
  within?: (trx: Db) => Promise<void>,
): Promise<SettlementOutcome> {
  let outcome: SettlementOutcome;
  try {
    outcome = await transactionRetryingRaces(ctx, async (trx) => {
      const o = await settleResult(trx, ctx, result);
      if (within) await within(trx);
      return o;
    });
  } catch (err) {
    if (isLedgerCreditViolation(err)) return { kind: "repeat" };
    throw err;
  }
  return outcome;
}

async function setUp() {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "settle",
    name: "Apply",
    owner: { email: "owner@apply.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
}
beforeAll(setUp);
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/**
 * Runs one case on a fresh database of its own, dropped at its end: a case that leaves a
 * credit on a pending order (the ledger refuses DELETE, migration 0003) keeps it out of the
 * shared database that the invariants check after each case.
 */
async function onOwnDatabase(test: () => Promise<void>) {
  const shared = { t, fx };
  await setUp();
  try {
    await test();
  } finally {
    await t.close();
    ({ t, fx } = shared);
  }
}

const eventsOf = (depositId: string) =>
  t.ctx.db
    .selectFrom("deposit_events")
    .select(["kind", "data"])
    .where("deposit_id", "=", depositId)
    .execute();

describe("settling one result", () => {
  for (const current of DEPOSIT_STATUSES) {
    for (const to of ["processing", "succeeded", "failed"] as ResultStatus[]) {
      const expected = canTransition(current, to)
        ? "applied"
        : current === to
          ? "repeat"
          : to === "succeeded" && (current === "expired" || current === "cancelled")
            ? "late"
            : "conflict";
      it(`${to} on a ${current} deposit: ${expected}`, async () => {
        const dep = await insertDeposit(t.ctx, fx, { status: current });
        const before = await depositRow(t.ctx, dep.id);
        const r = await settleAlone(t.ctx, {
          tenantId: fx.tenantId,
          depositId: dep.id,
          to,
          cause: "callback",
          paidAmountMinor: 10_000n,
          transactionId: "tx-1",
          pspTime: 123,
        });
        expect(r.kind).toBe(expected);
        const after = await depositRow(t.ctx, dep.id);
        const credits = await ledgerEntriesOf(t.ctx, dep.id);
        if (r.kind === "applied") {
          expect(r).toMatchObject({ from: current, to });
          expect(after).toMatchObject({
            status: to,
            transaction_id: "tx-1",
            psp_time: 123,
            paid_amount_minor: 10_000,
          });
          expect(after.finalized_at !== null).toBe(to !== "processing");
          expect(credits.map((e) => e.amount_minor)).toEqual(to === "succeeded" ? [9_720] : []);
          const kinds = (await eventsOf(dep.id)).map((e) => e.kind).sort();
          expect(kinds).toEqual(to === "succeeded" ? ["ledger", "status_change"] : ["status_change"]);
        } else {
          if (r.kind === "conflict" || r.kind === "late") expect(r.current).toBe(current);
          expect(after).toEqual(before);
          expect(credits).toEqual([]);
          expect(await eventsOf(dep.id)).toEqual([]);
        }
      });
    }
  }

  it("credits once when applied twice", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const input = {
      tenantId: fx.tenantId,
      depositId: dep.id,
      to: "succeeded" as const,
      cause: "manual" as const,
    };
    const first = await settleAlone(t.ctx, input);
    const second = await settleAlone(t.ctx, input);
    expect(first.kind).toBe("applied");
    expect(first.kind === "applied" && first.ledgerEntryId).toBeTruthy();
    expect(second).toEqual({ kind: "repeat" });
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("credits the given amount and keeps it as the deposit's credit", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const balance = await walletBalance(t.ctx, fx.clientId);
    await settleAlone(t.ctx, {
      tenantId: fx.tenantId,
      depositId: dep.id,
      to: "succeeded",
      creditMinor: 11_720n,
      paidAmountMinor: 12_000n,
      cause: "callback",
    });
    expect((await depositRow(t.ctx, dep.id)).credit_minor).toBe(11_720);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 11_720n);
  });

  it("rolls everything back and answers repeat when the ledger's unique index fires", async () => {
    // The pending order keeps that credit (the ledger refuses DELETE): a database of its own.
    await onOwnDatabase(async () => {
      // Another path already credited this deposit without moving it (the database guard, not
      // the status check, must stop the second credit).
      const dep = await insertDeposit(t.ctx, fx);
      const walletId = await ensureWallet(t.ctx.db, {
        tenantId: fx.tenantId,
        clientId: fx.clientId,
        currency: "USD",
        now: 1,
      });
      await t.ctx.db
        .insertInto("ledger_entries")
        .values({
          id: newId(),
          tenant_id: fx.tenantId,
          wallet_id: walletId,
          amount_minor: 0,
          kind: "deposit",
          deposit_id: dep.id,
          memo: "earlier credit",
          created_at: 1,
        })
        .execute();
      const before = await depositRow(t.ctx, dep.id);
      const r = await settleAlone(t.ctx, {
        tenantId: fx.tenantId,
        depositId: dep.id,
        to: "succeeded",
        cause: "callback",
      });
      expect(r).toEqual({ kind: "repeat" });
      expect(await depositRow(t.ctx, dep.id)).toEqual(before);
      expect(await eventsOf(dep.id)).toEqual([]);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    });
  });

  it("takes only the ledger's own unique guard for a repeat: another unique violation in the transaction is an error, and nothing is applied", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const before = await walletBalance(t.ctx, fx.clientId);
    const clash = settleAlone(
      { ...t.ctx },
      { tenantId: fx.tenantId, depositId: dep.id, to: "succeeded", cause: "callback" },
      async (trx) => {
        // Something recorded with the change hits a different unique constraint.
        await trx
          .insertInto("tenants")
          .values({ id: newId(), slug: "settle", name: "Clash", created_at: 1 })
          .execute();
      },
    );
    await expect(clash).rejects.toThrow();
    expect((await depositRow(t.ctx, dep.id))?.status).toBe("pending");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(before);
  });

  it("credits a closed deposit only through allowFrom, which admits only human late credits", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "expired", finalized_at: 1 });
    const base = { tenantId: fx.tenantId, depositId: dep.id, cause: "review" as const };
    expect(await settleAlone(t.ctx, { ...base, to: "succeeded" })).toEqual({
      kind: "late",
      current: "expired",
    });
    const r = await settleAlone(t.ctx, { ...base, to: "succeeded", allowFrom: ["expired"] });
    expect(r).toMatchObject({ kind: "applied", from: "expired", to: "succeeded" });
    expect(await settleAlone(t.ctx, { ...base, to: "succeeded", allowFrom: ["expired"] })).toEqual({
      kind: "repeat",
    });
    const bad: DepositStatus[] = ["succeeded"];
    await expect(settleAlone(t.ctx, { ...base, to: "failed", allowFrom: bad })).rejects.toThrow(/allowFrom/);
  });

  it("serialises concurrent duplicates: 50 at once, one applied, one credit", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        settleAlone(t.ctx, {
          tenantId: fx.tenantId,
          depositId: dep.id,
          to: "succeeded",
          cause: "callback",
        }),
      ),
    );
    expect(results.filter((r) => r.kind === "applied")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "repeat")).toHaveLength(49);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("races success against failure: exactly one wins, the other is a conflict", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const results = await Promise.all(
      (["succeeded", "failed", "succeeded", "failed"] as const).map((to) =>
        settleAlone(t.ctx, { tenantId: fx.tenantId, depositId: dep.id, to, cause: "callback" }),
      ),
    );
    const applied = results.filter((r) => r.kind === "applied");
    expect(applied).toHaveLength(1);
    expect(results.filter((r) => r.kind === "repeat")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "conflict")).toHaveLength(2);
    const final = (await depositRow(t.ctx, dep.id)).status;
    expect(applied[0]).toMatchObject({ to: final });
  });

  it("answers unknown for another tenant's deposit, changing nothing", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    expect(
      await settleAlone(t.ctx, { tenantId: newId(), depositId: dep.id, to: "succeeded", cause: "manual" }),
    ).toEqual({ kind: "unknown" });
    expect((await depositRow(t.ctx, dep.id)).status).toBe("pending");
  });
});
