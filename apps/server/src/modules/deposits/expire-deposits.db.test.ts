import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { BACKGROUND_JOBS } from "../../main.js";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { expectPaymentInvariants } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { expireDeposits, expireDepositsJob } from "./expire-deposits.js";

let t: TestApp;
let fx: PaymentFixture;
const T0 = 1_800_000_000_000;
const clock = fixedClock(T0);

// Each test starts from a fresh database, so counts are its own (the ledger refuses DELETE,
// migration 0003, so nothing is cleaned up in place).
beforeEach(async () => {
  clock.set(T0);
  t = await createTestApp({ clock });
  const { tenantId } = await createTenant(t.ctx, {
    slug: "expiry",
    name: "Expiry",
    owner: { email: "owner@expiry.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
});
afterEach(async () => {
  try {
    await expectPaymentInvariants(t.ctx);
  } finally {
    await t?.close();
  }
});

const expiryEvents = async (depositId: string) =>
  (
    await t.ctx.db
      .selectFrom("deposit_events")
      .select("data")
      .where("deposit_id", "=", depositId)
      .where("kind", "=", "status_change")
      .execute()
  ).map((e) => JSON.parse(e.data));

describe("expireDeposits", () => {
  it("expires open deposits past expires_at, and only those", async () => {
    const cases: [DepositStatus, number, DepositStatus][] = [
      ["pending", -1, "expired"],
      ["processing", -1, "expired"],
      ["pending", 0, "pending"], // exactly at expires_at: not yet past it
      ["pending", 60_000, "pending"],
      ["succeeded", -1, "succeeded"],
      ["failed", -1, "failed"],
      ["cancelled", -1, "cancelled"],
    ];
    const deps = [];
    for (const [status, offset] of cases) {
      deps.push(await insertDeposit(t.ctx, fx, { status, expires_at: T0 + offset }));
    }
    expect(await expireDeposits(t.ctx)).toEqual({ expired: 2 });
    for (const [i, [from, , expected]] of cases.entries()) {
      const row = await depositRow(t.ctx, deps[i]!.id);
      expect(row.status, `${from} at ${cases[i]![1]}`).toBe(expected);
      if (expected === "expired") {
        expect(row.finalized_at).toBe(T0);
        expect(await expiryEvents(row.id)).toEqual([{ from, to: "expired", cause: "expiry" }]);
      } else {
        expect(await expiryEvents(row.id)).toEqual([]);
      }
    }
    expect(await expireDeposits(t.ctx)).toEqual({ expired: 0 });
  });

  it("works through batches", async () => {
    for (let i = 0; i < 23; i++) await insertDeposit(t.ctx, fx, { expires_at: T0 - 1 - i });
    expect(await expireDeposits(t.ctx, { batchSize: 5 })).toEqual({ expired: 23 });
    const open = await t.ctx.db.selectFrom("deposits").select("id").where("status", "=", "pending").execute();
    expect(open).toEqual([]);
  });

  it("is safe when several sweeps run at once: each deposit expires once, with one event", async () => {
    const deps = [];
    for (let i = 0; i < 60; i++) deps.push(await insertDeposit(t.ctx, fx, { expires_at: T0 - 1 }));
    const results = await Promise.all(
      Array.from({ length: 4 }, () => expireDeposits(t.ctx, { batchSize: 7 })),
    );
    expect(results.reduce((n, r) => n + r.expired, 0)).toBe(60);
    for (const d of deps) expect(await expiryEvents(d.id)).toHaveLength(1);
  });

  it("settles races with callbacks: whichever comes first wins, a later success is kept for review", async () => {
    const dep = await insertDeposit(t.ctx, fx, { expires_at: T0 - 1 });
    const [sweep, cb] = await Promise.all([expireDeposits(t.ctx), sendSignedCallback(t.app, fx, dep)]);
    const row = await depositRow(t.ctx, dep.id);
    if (row.status === "succeeded") {
      expect(sweep.expired).toBe(0);
      expect(cb.statusCode).toBe(204);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    } else {
      expect(row.status).toBe("expired");
      expect(cb.json().type).toBe("payment_status_not_pending");
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
      const items = await t.ctx.db
        .selectFrom("review_items")
        .select("reason")
        .where("deposit_id", "=", dep.id)
        .execute();
      expect(items.map((i) => i.reason)).toEqual(["late_success"]);
    }
  });

  it("runs as a background job in every server process", async () => {
    expect(BACKGROUND_JOBS).toContain(expireDepositsJob);
    const dep = await insertDeposit(t.ctx, fx, { expires_at: T0 + 1_000 });
    clock.advance(2_000);
    await expireDepositsJob(t.ctx);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("expired");
  });
});
