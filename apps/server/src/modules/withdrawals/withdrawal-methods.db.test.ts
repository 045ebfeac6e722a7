import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../common/errors.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { writeTransaction } from "../../infra/db/database.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertClient, insertIntegration } from "../../test/payment-fixtures.js";
import { createTestApp, createTestTenant, type TestApp } from "../../test/test-app.js";
import { createMethod } from "../deposit-methods/create-method.js";
import {
  createWithdrawalMethod,
  listWithdrawalMethods,
  updateWithdrawalMethod,
  type WithdrawalMethodInput,
} from "./manage-withdrawal-methods.js";
import { requestWithdrawal } from "./request-withdrawal.js";

// Withdrawal methods in the back office (docs/withdrawals.md#withdrawal-methods), on both
// databases: the checks on currencies, fields, payout mode and the approval policy per currency,
// the audit, and a request through a method made this way.

let t: TestApp;
let actor: AdminActor;
let otherActor: AdminActor;

const valid = (more: Partial<WithdrawalMethodInput> = {}): WithdrawalMethodInput => ({
  name: "Bank transfer",
  currencies: [
    { code: "USD", min: "10", max: "50000", feePercent: "1", feeFixed: "0.50" },
    { code: "JPY", min: "1000", max: "5000000" },
  ],
  fields: [{ key: "iban", label: "IBAN" }],
  approval: {
    bands: [
      { from: "0", levels: 1 },
      { from: "1000", levels: 2 },
    ],
    rolesByLevel: [["finance", "admin"], ["owner"]],
  },
  ...more,
});

const issuesOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return [];
  } catch (err) {
    if (err instanceof AppError)
      return (err.details?.issues as Array<{ path: string; message: string }>) ?? [err.code];
    throw err;
  }
};

beforeAll(async () => {
  t = await createTestApp();
  const a = await createTestTenant(t.ctx);
  const b = await createTestTenant(t.ctx);
  actor = { tenantId: a.tenantId, audit: { type: "user", id: "admin-1" }, ip: null };
  otherActor = { tenantId: b.tenantId, audit: { type: "user", id: "admin-2" }, ip: null };
});
afterAll(async () => t?.close());

describe("withdrawal methods", () => {
  it("creates a method whose approval bands apply in each of its currencies, and audits it", async () => {
    const m = await createWithdrawalMethod(t.ctx, actor, valid());
    expect(m).toMatchObject({
      name: "Bank transfer",
      payoutMode: "manual",
      integrationId: null,
      failedPayout: "release",
    });
    expect(m.currencies.map((c) => [c.code, c.decimals, c.minMinor])).toEqual([
      ["USD", 2, 1_000n],
      ["JPY", 0, 1_000n],
    ]);
    expect((await listWithdrawalMethods(t.ctx, actor.tenantId)).map((x) => x.id)).toEqual([m.id]);
    expect(await listWithdrawalMethods(t.ctx, otherActor.tenantId)).toEqual([]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target_id", "=", m.id)
      .execute();
    expect(audit).toEqual([{ action: "withdrawal_method.create" }]);

    // 1,000.00 USD and 1,000 JPY both need two levels.
    const { clientId } = await insertClient(t.ctx, actor.tenantId);
    for (const [currency, credit, amount] of [
      ["USD", 500_000n, "1000.00"],
      ["JPY", 500_000n, "1000"],
    ] as const) {
      await writeTransaction(t.ctx.db, (trx) =>
        postLedgerEntry(trx, {
          tenantId: actor.tenantId,
          clientId,
          currency,
          amountMinor: credit,
          kind: "adjustment",
          depositId: null,
          now: 1,
        }),
      );
      const w = await requestWithdrawal(
        t.ctx,
        { tenantId: actor.tenantId, clientId },
        { methodId: m.id, currency, amount, fields: { iban: "X" } },
      );
      expect(w.levels_required).toBe(2);
    }
  });

  it("names every mistake", async () => {
    expect(
      await issuesOf(
        createWithdrawalMethod(
          t.ctx,
          actor,
          valid({
            currencies: [{ code: "USD", min: "10.001", max: "5" }],
            fields: [
              { key: "iban", label: "IBAN" },
              { key: "iban", label: "Again" },
            ],
          }),
        ),
      ),
    ).toEqual([
      { path: "currencies.0.min", message: expect.any(String) },
      { path: "fields.1.key", message: "iban is listed twice" },
    ]);
    expect(
      await issuesOf(
        createWithdrawalMethod(t.ctx, actor, valid({ approval: { bands: [{ from: "0.5", levels: 1 }] } })),
      ),
    ).toEqual([{ path: "approval.bands.0.from", message: "0.5 is not an amount of JPY" }]);
    expect(
      await issuesOf(
        createWithdrawalMethod(t.ctx, actor, valid({ approval: { bands: [{ from: "5", levels: 1 }] } })),
      ),
    ).toEqual([{ path: "approval", message: "the first band must start at 0" }]);
    expect(
      await issuesOf(
        createWithdrawalMethod(
          t.ctx,
          actor,
          valid({ approval: { bands: [{ from: "0", levels: 1 }], rolesByLevel: [["viewer"]] } }),
        ),
      ),
    ).toEqual([{ path: "approval", message: "each level needs roles, and viewers never decide" }]);
  });

  it("pays through an integration only of the tenant's own, with two levels at least", async () => {
    const mine = await insertIntegration(t.ctx, actor.tenantId);
    const theirs = await insertIntegration(t.ctx, otherActor.tenantId);
    expect(
      await issuesOf(
        createWithdrawalMethod(
          t.ctx,
          actor,
          valid({ payoutMode: "integration", integrationId: theirs.integrationId }),
        ),
      ),
    ).toEqual([
      { path: "integrationId", message: "Integration not found" },
      { path: "approval", message: "payouts through an integration need at least 2 levels" },
    ]);
    const twoLevels = { bands: [{ from: "0", levels: 2 }] };
    const m = await createWithdrawalMethod(
      t.ctx,
      actor,
      valid({ payoutMode: "integration", integrationId: mine.integrationId, approval: twoLevels }),
    );
    expect(m).toMatchObject({ payoutMode: "integration", integrationId: mine.integrationId });
    expect(
      await issuesOf(createWithdrawalMethod(t.ctx, actor, valid({ integrationId: mine.integrationId }))),
    ).toEqual([{ path: "integrationId", message: "a manual payout names no integration" }]);
  });

  it("changes a method of the tenant only, and audits the change", async () => {
    const m = await createWithdrawalMethod(t.ctx, actor, valid({ name: "Crypto" }));
    const changed = await updateWithdrawalMethod(
      t.ctx,
      actor,
      m.id,
      valid({ name: "Crypto (USDT)", enabled: false }),
    );
    expect(changed).toMatchObject({ id: m.id, name: "Crypto (USDT)", enabled: false });
    expect(await issuesOf(updateWithdrawalMethod(t.ctx, otherActor, m.id, valid()))).toEqual(["not_found"]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target_id", "=", m.id)
      .orderBy("created_at")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["withdrawal_method.create", "withdrawal_method.update"]);
  });

  it("gives a currency one number of decimals across deposit and withdrawal methods", async () => {
    const tenant = await createTestTenant(t.ctx);
    const me: AdminActor = { tenantId: tenant.tenantId, audit: { type: "user", id: "admin-3" }, ip: null };
    const usdt = (decimals: number) => [{ code: "USDT", decimals, min: "10", max: "5000" }];
    const first = await createWithdrawalMethod(t.ctx, me, valid({ name: "USDT out", currencies: usdt(6) }));
    // Changing the method itself may change its own decimals while nothing else uses them.
    await updateWithdrawalMethod(t.ctx, me, first.id, valid({ name: "USDT out", currencies: usdt(8) }));
    expect(
      (await issuesOf(createWithdrawalMethod(t.ctx, me, valid({ name: "USDT 2", currencies: usdt(6) })))).map(
        (i) => (typeof i === "string" ? i : i.path),
      ),
    ).toEqual(["currencies.0.decimals"]);
    const integration = await insertIntegration(t.ctx, tenant.tenantId);
    const deposit = await issuesOf(
      createMethod(t.ctx, me, {
        name: "USDT in",
        integrationId: integration.integrationId,
        currencies: usdt(6),
      }),
    );
    expect(deposit).toEqual([
      expect.objectContaining({
        path: "currencies.0.decimals",
        message: expect.stringContaining("USDT out (withdrawals)"),
      }),
    ]);
  });
});
