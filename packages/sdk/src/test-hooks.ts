import type { PaymentRequest } from "./api1-handler.js";
import type { OutcomeName } from "./callback.js";
import type { PayoutRequest } from "./payout-handler.js";

/**
 * The test hooks of `psphub certify` (docs/certify.md#test-hooks): a test order (header
 * `x-psphub-test: 1`) of a magic amount in a 2-decimal currency settles by itself, so the
 * suite can check your callbacks without a person on the payment page.
 */

/** One callback a test order's hook sends: its outcome, the amount paid, and when. */
export interface TestHookStep {
  readonly status: OutcomeName;
  /** The amount to report as paid (decimal text): the order's, except for 10.04. */
  readonly paidAmount: string;
  /** Milliseconds after API-1 was answered. */
  readonly afterMs: number;
}

/** The magic amounts, in minor units of a 2-decimal currency, and what each does. */
const HOOKS: ReadonlyMap<
  bigint,
  ReadonlyArray<Omit<TestHookStep, "paidAmount"> & { paid?: string }>
> = new Map([
  [1001n, [{ status: "success", afterMs: 0 }]],
  [1002n, [{ status: "failed", afterMs: 0 }]],
  [
    1003n,
    [
      { status: "processing", afterMs: 0 },
      { status: "success", afterMs: 1_000 },
    ],
  ],
  [1004n, [{ status: "success", afterMs: 0, paid: "10.00" }]],
]);

/**
 * The callbacks to send for this order by the test hooks, in order; empty for any order that is
 * not a test order of a magic amount (serve those as usual).
 *
 * ```ts
 * onPaymentRequest(req) {
 *   for (const step of sdk.testHookSteps(req))
 *     setTimeout(() => settle(req, step.status, step.paidAmount), step.afterMs);
 *   return { url: pageFor(req) };
 * }
 * ```
 */
export function testHookSteps(req: PaymentRequest): TestHookStep[] {
  if (!req.test || req.exponent !== 2 || req.amountMinor === undefined) return [];
  return (HOOKS.get(req.amountMinor) ?? []).map(({ status, afterMs, paid }) => ({
    status,
    afterMs,
    paidAmount: paid ?? req.amount,
  }));
}

/**
 * The API-5 callbacks a test payout's hook sends (docs/certify.md#test-payouts): a test payout
 * (header `x-psphub-test: 1`) of any amount is reported paid (status 1) right after API-4 is
 * answered, with API-4's amount. Empty for every other payout.
 *
 * ```ts
 * onPayout: sdk.oncePerPayout((req) => {
 *   for (const step of sdk.payoutTestHookSteps(req)) setTimeout(() => void report(req, step.status), step.afterMs);
 *   return { accepted: true, transactionId: `po-${req.payoutNo}` };
 * }),
 * ```
 */
export function payoutTestHookSteps(req: PayoutRequest): TestHookStep[] {
  return req.test ? [{ status: "success", afterMs: 0, paidAmount: req.amount }] : [];
}
