import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DepositStatus } from "../../infra/db/schema.js";
import {
  callbackError,
  callbackFields,
  callbackForm,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  moneySnapshot,
  sendCallback,
  sendSignedCallback,
} from "../../test/callback-client.js";
import {
  insertClient,
  insertEarlierCredit,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import type { AmountPolicy } from "../psp-integrations/integration-model.js";
import { createTenant } from "../tenants/create-tenant.js";

// The guards behind exactly-once crediting, each proven on its own (docs/failure-modes.md#failure-mode-2,
// docs/failure-modes.md#failure-mode-4), every adjacent pair of the spec's check order
// (docs/psp-open-api.md#api-2-checks), URL-encoded form values (docs/failure-modes.md#failure-mode-10), and
// callbacks for one order arriving at the same time in any mix (the concurrent counterpart of
// callback-property.db.test.ts).

let t: TestApp;
let tenantId: string;
let fx: PaymentFixture;
/** A second integration of the same tenant. */
let sibling: PaymentFixture;
const policies = {} as Record<AmountPolicy, PaymentFixture>;

async function setUp() {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "cb-guards",
    name: "Guards",
    owner: { email: "owner@guards.test", name: "Owner", password: "correct horse battery" },
  }));
  fx = await insertPaymentSetup(t.ctx, tenantId);
  sibling = await insertPaymentSetup(t.ctx, tenantId);
  for (const policy of ["exact", "credit_paid", "review"] as const) {
    policies[policy] = await insertPaymentSetup(t.ctx, tenantId, { amountPolicy: policy });
  }
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
  const shared = { t, tenantId, fx, sibling, policies: { ...policies } };
  await setUp();
  try {
    await test();
  } finally {
    await t.close();
    ({ t, tenantId, fx, sibling } = shared);
    Object.assign(policies, shared.policies);
  }
}

const logsOf = (orderNo: string) =>
  t.ctx.db
    .selectFrom("callback_logs")
    .select(["id", "verdict", "error_type", "http_status", "deposit_id"])
    .where("order_no", "=", orderNo)
    .execute();

const callbackEvents = async (depositId: string) =>
  (
    await t.ctx.db
      .selectFrom("deposit_events")
      .select("data")
      .where("deposit_id", "=", depositId)
      .where("kind", "=", "callback")
      .execute()
  ).map((e) => JSON.parse(e.data) as { verdict: string; callbackLogId: string });

describe("exactly-once: each guard holds on its own", () => {
  it("the status check under the row lock credits once even without the ledger's unique index (200 at once)", async () => {
    // A database of its own: this test removes the index that is the last guard, so only the
    // conditional update (and, on PostgreSQL, SELECT … FOR UPDATE) can stop a second credit.
    const bare = await createTestApp();
    try {
      await bare.ctx.db.schema.dropIndex("ledger_one_credit_per_deposit").execute();
      const { tenantId: tid } = await createTenant(bare.ctx, {
        slug: "no-index",
        name: "No index",
        owner: { email: "owner@no-index.test", name: "Owner", password: "correct horse battery" },
      });
      const f = await insertPaymentSetup(bare.ctx, tid);
      const dep = await insertDeposit(bare.ctx, f);
      const body = callbackJson(callbackFields(f, dep), f.token);
      const res = await Promise.all(
        Array.from({ length: 200 }, () => sendCallback(bare.app, body, { token: f.token })),
      );
      expect(res.filter((r) => r.statusCode !== 204).map((r) => r.body)).toEqual([]);
      expect((await ledgerEntriesOf(bare.ctx, dep.id)).map((e) => e.amount_minor)).toEqual([9_720]);
      const logs = await bare.ctx.db
        .selectFrom("callback_logs")
        .select("verdict")
        .where("order_no", "=", dep.orderNo)
        .execute();
      expect(logs.filter((l) => l.verdict === "accepted")).toHaveLength(1);
      expect(logs.filter((l) => l.verdict === "duplicate")).toHaveLength(199);
    } finally {
      await bare.close();
    }
  });

  it("credits different orders of a brand-new client at once: one wallet, every order credited (no race is mistaken for a duplicate)", async () => {
    const client = await insertClient(t.ctx, tenantId);
    const f = { ...fx, ...client };
    const deps = await Promise.all(Array.from({ length: 20 }, () => insertDeposit(t.ctx, f)));
    const res = await Promise.all(deps.map((d) => sendSignedCallback(t.app, f, d)));
    expect(res.map((r) => r.statusCode)).toEqual(deps.map(() => 204));
    for (const d of deps) {
      expect((await depositRow(t.ctx, d.id)).status).toBe("succeeded");
      expect(await ledgerEntriesOf(t.ctx, d.id)).toHaveLength(1);
    }
    const wallets = await t.ctx.db
      .selectFrom("wallets")
      .select("balance_minor")
      .where("client_id", "=", client.clientId)
      .execute();
    expect(wallets.map((w) => BigInt(w.balance_minor))).toEqual([20n * 9_720n]);
  });

  // docs/failure-modes.md#failure-mode-4
  it("a duplicate stopped only by the ledger's unique index rolls back, answers 204 and keeps its record (failure mode 4)", async () => {
    // Another path already credited this order without moving it: the status check lets the
    // callback through, the unique index refuses the second credit and everything rolls back.
    // The pending order keeps that credit (the ledger refuses DELETE): a database of its own.
    await onOwnDatabase(async () => {
      const dep = await insertDeposit(t.ctx, fx);
      const earlier = await insertEarlierCredit(t.ctx, { tenantId, clientId: fx.clientId }, dep.id);
      const before = await depositRow(t.ctx, dep.id);
      const res = await sendSignedCallback(t.app, fx, dep);
      expect(res.statusCode, res.body).toBe(204);
      // Nothing of the business transaction survived…
      expect(await depositRow(t.ctx, dep.id)).toEqual(before);
      expect((await ledgerEntriesOf(t.ctx, dep.id)).map((e) => e.id)).toEqual([earlier]);
      // …but the callback's record did, in the log and on the order's timeline.
      const logs = await logsOf(dep.orderNo);
      expect(logs.map((l) => [l.verdict, l.error_type, l.http_status, l.deposit_id])).toEqual([
        ["duplicate", null, 204, dep.id],
      ]);
      expect((await callbackEvents(dep.id)).map((e) => [e.verdict, e.callbackLogId])).toEqual([
        ["duplicate", logs[0]!.id],
      ]);
    });
  });

  it("a refused contradiction changes nothing and still leaves its log row, timeline entry and review item", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    const before = await moneySnapshot(t.ctx);
    const res = await sendSignedCallback(t.app, fx, dep, { status: 0 });
    expect(res.json()).toEqual(callbackError("payment_status_not_pending"));
    expect(await moneySnapshot(t.ctx)).toEqual(before);
    const conflict = (await logsOf(dep.orderNo)).find((l) => l.error_type === "payment_status_not_pending");
    expect(conflict).toMatchObject({ verdict: "review", http_status: 400, deposit_id: dep.id });
    expect((await callbackEvents(dep.id)).map((e) => e.verdict).sort()).toEqual(["accepted", "review"]);
    const items = await t.ctx.db
      .selectFrom("review_items")
      .select(["reason", "callback_log_id"])
      .where("deposit_id", "=", dep.id)
      .execute();
    expect(items).toEqual([{ reason: "conflict", callback_log_id: conflict!.id }]);
  });
});

// docs/psp-open-api.md#api-2-checks
describe("the spec's check order, pair by pair: the earlier check decides", () => {
  const send = (fields: Record<string, unknown>, signWith: string, header: string | null) =>
    sendCallback(t.app, callbackJson(fields as never, signWith), { token: header });

  it("body before merchant_id: a body without its sign, for an unknown merchant, is request_malformed", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const body = callbackJson(callbackFields(fx, dep, { merchant_id: "0".repeat(32) }), fx.token, {
      signature: null,
    });
    expect((await sendCallback(t.app, body, { token: fx.token })).json()).toEqual(
      callbackError("request_malformed"),
    );
  });

  it("merchant_id before token: an unknown or disabled merchant with a wrong token is psp_setting_not_found", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const unknown = await send(callbackFields(fx, dep, { merchant_id: "0".repeat(32) }), "x", "wrong");
    expect(unknown.json()).toEqual(callbackError("psp_setting_not_found"));
    const off = await insertPaymentSetup(t.ctx, tenantId, { enabled: false });
    const offDep = await insertDeposit(t.ctx, off);
    const disabled = await send(callbackFields(off, offDep), "x", "wrong");
    expect(disabled.json()).toEqual(callbackError("psp_setting_not_found"));
  });

  it("sign before order: a wrong sign for an unknown order is psp_token_invalid", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const res = await send(callbackFields(fx, dep, { order_no: "nosuchorder1" }), "not-the-token", fx.token);
    expect(res.json()).toEqual(callbackError("psp_token_invalid"));
  });

  it("order before deposit method and currency: unknown, or another integration's, with a wrong currency is payment_not_found", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const unknown = await send(
      callbackFields(fx, dep, { order_no: "nosuchorder2", currency: "EUR" }),
      fx.token,
      fx.token,
    );
    expect(unknown.json()).toEqual(callbackError("payment_not_found"));
    // fx's order, reported by its sibling integration (validly signed by the sibling).
    const crossed = await send(
      callbackFields(sibling, dep, { currency: "EUR" }),
      sibling.token,
      sibling.token,
    );
    expect(crossed.json()).toEqual(callbackError("payment_not_found"));
  });

  it("deposit method before currency: a deleted method with a wrong currency is deposit_method_not_found", async () => {
    const methodId = await insertMethod(t.ctx, tenantId, fx.integrationId);
    const dep = await insertDeposit(t.ctx, { ...fx, methodId });
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ deleted_at: Date.now() })
      .where("id", "=", methodId)
      .execute();
    const res = await send(callbackFields(fx, dep, { currency: "EUR" }), fx.token, fx.token);
    expect(res.json()).toEqual(callbackError("deposit_method_not_found"));
  });

  it("amount before status: an amount with too many decimals and status 7 is payment_amount_not_allowed", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const res = await send(
      callbackFields(fx, dep, { amount: { literal: "100.001" }, status: 7 }),
      fx.token,
      fx.token,
    );
    expect(res.json()).toEqual(callbackError("payment_amount_not_allowed"));
  });
});

// docs/failure-modes.md#failure-mode-10
describe("signatures over form values (failure mode 10)", () => {
  it("verifies a form body over its decoded values: spaces, +, &, =, % and non-ASCII survive URL-encoding", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const transactionId = "a b+c&d=e%20/é";
    const body = callbackForm(callbackFields(fx, dep, { transaction_id: transactionId }), fx.token);
    expect(body).not.toContain(transactionId);
    const res = await sendCallback(t.app, body, {
      token: fx.token,
      contentType: "application/x-www-form-urlencoded",
    });
    expect(res.statusCode, res.body).toBe(204);
    expect((await depositRow(t.ctx, dep.id)).transaction_id).toBe(transactionId);
  });
});

describe("callbacks for one order arriving at once, in any mix (property)", () => {
  const ORDERED = 10_000n;
  const FEE = 280n;
  const AMOUNTS: Record<string, bigint> = { "100": 10_000n, "100.00": 10_000n, "120": 12_000n, "2": 200n };
  type Step = { status: 0 | 1 | 2; amount: string };
  type State = { status: DepositStatus; credit: bigint | null };
  const TO = { 0: "failed", 1: "succeeded", 2: "processing" } as const;
  const OPEN = new Set<DepositStatus>(["pending", "processing"]);

  /** The reference model of one callback applied alone (as in callback-property.db.test.ts). */
  function apply(m: State, s: Step, policy: AmountPolicy): State {
    const paid = AMOUNTS[s.amount]!;
    const mismatch = paid !== ORDERED;
    if (mismatch && policy === "exact") return m;
    const to = TO[s.status];
    if (mismatch && policy === "review" && to === "succeeded" && OPEN.has(m.status))
      return { ...m, status: "processing" };
    if (m.status === to || !OPEN.has(m.status)) return m;
    if (to !== "succeeded") return { ...m, status: to };
    return { status: to, credit: mismatch ? creditOfPaid(paid) : ORDERED - FEE };
  }
  /** A paid amount's credit: its own fee by the order's rule (2.5 % half up + 0.30, at most 20.00). */
  function creditOfPaid(paid: bigint): bigint {
    const pct = (paid * 250n + 5_000n) / 10_000n + 30n;
    const fee = pct > 2_000n ? 2_000n : pct;
    return paid > fee ? paid - fee : 0n;
  }

  /** Every end state some serialisation of the steps reaches. */
  function reachable(steps: Step[], policy: AmountPolicy): Set<string> {
    const out = new Set<string>();
    const walk = (m: State, rest: Step[]): void => {
      if (rest.length === 0) {
        out.add(`${m.status}:${m.credit ?? "-"}`);
        return;
      }
      for (const [i, s] of rest.entries()) {
        walk(apply(m, s, policy), [...rest.slice(0, i), ...rest.slice(i + 1)]);
      }
    };
    walk({ status: "pending", credit: null }, steps);
    return out;
  }

  it("ends in a state one of the serial orders reaches, with at most one credit, never a 5xx (25 runs)", async () => {
    const step = fc.record({
      status: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      amount: fc.constantFrom(...Object.keys(AMOUNTS)),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<AmountPolicy>("exact", "credit_paid", "review"),
        fc.array(step, { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        async (policy, steps, copies) => {
          const f = policies[policy];
          const dep = await insertDeposit(t.ctx, f);
          const sends = steps.flatMap((s) => Array.from({ length: copies }, () => s));
          const res = await Promise.all(
            sends.map((s) =>
              sendSignedCallback(t.app, f, dep, { status: s.status, amount: { literal: s.amount } }),
            ),
          );
          for (const r of res) expect([204, 400], r.body).toContain(r.statusCode);
          const row = await depositRow(t.ctx, dep.id);
          const credits = await ledgerEntriesOf(t.ctx, dep.id);
          expect(credits.length).toBeLessThanOrEqual(1);
          const end = `${row.status}:${credits[0] === undefined ? "-" : BigInt(credits[0].amount_minor)}`;
          expect(reachable(steps, policy), JSON.stringify({ policy, steps, copies })).toContain(end);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
