import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../common/ids.js";
import type { DepositStatus } from "../infra/db/schema.js";
import { insertDepositEvent } from "../modules/deposits/deposit-repo.js";
import { createTenant } from "../modules/tenants/create-tenant.js";
import { insertDeposit, type TestDeposit } from "./callback-client.js";
import { postLedgerEntry } from "./ledger-postings.js";
import { insertPaymentSetup, type PaymentFixture } from "./payment-fixtures.js";
import { expectPaymentInvariants } from "./payment-invariants.js";
import { createTestApp, type TestApp } from "./test-app.js";

// The check that runs after every payment test must itself be able to fail: each case below
// breaks one invariant on purpose and expects the check to refuse it.

let t: TestApp;
let fx: PaymentFixture;

// A fresh database per case: the cases leave broken histories behind on purpose, and the
// ledger refuses DELETE (migration 0003), so nothing is cleaned up in place.
beforeEach(async () => {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "invariants",
    name: "Invariants",
    owner: { email: "owner@invariants.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
});
afterEach(async () => t?.close());

const change = (dep: TestDeposit, from: DepositStatus, to: DepositStatus, cause = "callback") =>
  insertDepositEvent(t.ctx.db, {
    tenantId: fx.tenantId,
    depositId: dep.id,
    now: Date.now(),
    event: { kind: "status_change", data: { from, to, cause: cause as "callback" } },
  });
const credit = (dep: TestDeposit) =>
  postLedgerEntry(t.ctx.db, {
    tenantId: fx.tenantId,
    clientId: fx.clientId,
    currency: "USD",
    amountMinor: dep.creditMinor,
    kind: "deposit",
    depositId: dep.id,
    now: Date.now(),
  });
const check = () => expectPaymentInvariants(t.ctx);

describe("expectPaymentInvariants", () => {
  it("passes a clean history: pending → processing → succeeded with one credit and its ledger event", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "succeeded" });
    await change(dep, "pending", "processing");
    await change(dep, "processing", "succeeded");
    const entry = await credit(dep);
    await insertDepositEvent(t.ctx.db, {
      tenantId: fx.tenantId,
      depositId: dep.id,
      now: Date.now(),
      event: { kind: "ledger", data: { ...entry, amount: "97.20", currency: "USD" } },
    });
    await expect(check()).resolves.toBeUndefined();
  });

  it("refuses a deposit moved to succeeded without a credit", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "succeeded" });
    await change(dep, "pending", "succeeded");
    await expect(check()).rejects.toThrow(/succeeded without exactly one credit/);
  });

  it("refuses a credit for a deposit that is not succeeded", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "failed" });
    await credit(dep);
    await expect(check()).rejects.toThrow(/a credit for a failed deposit/);
  });

  it("refuses a transition the state machine forbids", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "succeeded" });
    await change(dep, "pending", "failed");
    await change(dep, "failed", "succeeded", "callback");
    await credit(dep);
    await expect(check()).rejects.toThrow(/a transition the state machine refuses/);
  });

  it("accepts a human's late credit from the review queue (expired → succeeded, cause review)", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "succeeded" });
    await change(dep, "pending", "expired", "expiry");
    await change(dep, "expired", "succeeded", "review");
    await credit(dep);
    await expect(check()).resolves.toBeUndefined();
  });

  it("refuses a broken chain and a last change that is not the current status", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "failed" });
    await change(dep, "pending", "processing");
    await change(dep, "pending", "failed");
    await expect(check()).rejects.toThrow(/a broken chain/);

    await t.ctx.db.deleteFrom("deposit_events").execute();
    await change(dep, "pending", "processing");
    await expect(check()).rejects.toThrow(/the last status change is not the status/);
  });

  it("refuses a ledger event that names no credit of its deposit", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    await insertDepositEvent(t.ctx.db, {
      tenantId: fx.tenantId,
      depositId: dep.id,
      now: Date.now(),
      event: {
        kind: "ledger",
        data: { entryId: newId(), walletId: newId(), amount: "1.00", currency: "USD" },
      },
    });
    await expect(check()).rejects.toThrow(/names ledger entry/);
  });
});
