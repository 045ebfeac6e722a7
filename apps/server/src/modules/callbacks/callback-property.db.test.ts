import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DepositStatus } from "../../infra/db/schema.js";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import type { AmountPolicy } from "../psp-integrations/integration-model.js";
import { createTenant } from "../tenants/create-tenant.js";

// Any sequence of callbacks for one order (statuses 0/1/2, duplicates, right and wrong amounts,
// in any order) ends where the spec says (docs/psp-open-api.md#callback-status-table): the first
// applicable final callback decides, there is at most one credit, and it is the expected amount.
// A small reference model predicts each answer; the real app, on a real database, must agree with
// it step by step.

const RUNS = 100;
const ORDERED = 10_000n;
const FEE = 280n;
let t: TestApp;
const fixtures = {} as Record<AmountPolicy, PaymentFixture>;

beforeAll(async () => {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "property",
    name: "Property",
    owner: { email: "owner@property.test", name: "Owner", password: "correct horse battery" },
  });
  for (const policy of ["exact", "credit_paid", "review"] as const) {
    fixtures[policy] = await insertPaymentSetup(t.ctx, tenantId, { amountPolicy: policy });
  }
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/** Amount literals: two spellings of the ordered 100.00, and three others. */
const AMOUNTS: Record<string, bigint> = {
  "100": 10_000n,
  "100.00": 10_000n,
  "120": 12_000n,
  "50.5": 5_050n,
  "2": 200n,
};
type Step = { status: 0 | 1 | 2; amount: keyof typeof AMOUNTS };

const step = fc.record({
  status: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  amount: fc.constantFrom(...(Object.keys(AMOUNTS) as (keyof typeof AMOUNTS)[])),
});
// Duplicates come from drawing some steps twice and shuffling them in.
const sequence = fc
  .array(step, { minLength: 1, maxLength: 6 })
  .chain((steps) =>
    fc
      .subarray(steps)
      .chain((again) =>
        fc.shuffledSubarray([...steps, ...again], { minLength: steps.length + again.length }),
      ),
  );

type Model = { status: DepositStatus; credit: bigint | null; paid: bigint | null };
type Expect = { code: 204 } | { code: 400; type: string };

const TO: Record<Step["status"], DepositStatus> = { 0: "failed", 1: "succeeded", 2: "processing" };
const OPEN = new Set<DepositStatus>(["pending", "processing"]);

/** A paid amount's credit: its own fee by the order's rule (2.5 % half up + 0.30, at most 20.00). */
function creditOfPaid(paid: bigint): bigint {
  const pct = (paid * 250n + 5_000n) / 10_000n + 30n;
  const fee = pct > 2_000n ? 2_000n : pct;
  return paid > fee ? paid - fee : 0n;
}

/**
 * The reference model of one callback: the API-2 decisions and the amount policies
 * (docs/psp-open-api.md#api-2-idempotency, docs/psp-open-api.md#amount-policies).
 */
function modelStep(m: Model, s: Step, policy: AmountPolicy): Expect {
  const paid = AMOUNTS[s.amount]!;
  const mismatch = paid !== ORDERED;
  if (mismatch && policy === "exact") return { code: 400, type: "payment_amount_not_allowed" };
  const to = TO[s.status];
  if (mismatch && policy === "review" && to === "succeeded" && OPEN.has(m.status)) {
    m.status = "processing"; // held for an admin
    return { code: 204 };
  }
  // A success with another amount than the one the order succeeded with: a conflict.
  if (m.status === "succeeded" && to === "succeeded" && paid !== m.paid)
    return { code: 400, type: "payment_status_not_pending" };
  if (m.status === to) return { code: 204 };
  if (OPEN.has(m.status)) {
    m.status = to;
    if (to === "succeeded") {
      m.credit = mismatch ? creditOfPaid(paid) : ORDERED - FEE;
      m.paid = paid;
    }
    return { code: 204 };
  }
  return {
    code: 400,
    type: to === "processing" ? "payment_status_not_allowed" : "payment_status_not_pending",
  };
}

describe("callback sequences (property)", () => {
  // The states the spec allows: docs/psp-open-api.md#state-machine.
  it(`end in a state the spec allows, with at most one credit of the expected amount (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<AmountPolicy>("exact", "credit_paid", "review"),
        sequence,
        async (policy, steps) => {
          const fx = fixtures[policy];
          const dep = await insertDeposit(t.ctx, fx);
          const model: Model = { status: "pending", credit: null, paid: null };
          for (const s of steps) {
            const want = modelStep(model, s, policy);
            const res = await sendSignedCallback(t.app, fx, dep, {
              status: s.status,
              amount: { literal: s.amount },
            });
            expect(res.statusCode, JSON.stringify({ policy, steps, s })).toBe(want.code);
            if (want.code === 400) expect(res.json().type).toBe(want.type);
          }
          expect((await depositRow(t.ctx, dep.id)).status).toBe(model.status);
          const credits = (await ledgerEntriesOf(t.ctx, dep.id)).map((e) => BigInt(e.amount_minor));
          expect(credits).toEqual(model.credit === null ? [] : [model.credit]);
          // The first applicable final callback decides: never a second final status.
          const finals = await t.ctx.db
            .selectFrom("deposit_events")
            .select("data")
            .where("deposit_id", "=", dep.id)
            .where("kind", "=", "status_change")
            .execute();
          const tos = finals.map((f) => JSON.parse(f.data).to as string).filter((s) => s !== "processing");
          expect(tos.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
