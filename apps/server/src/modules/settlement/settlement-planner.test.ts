import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DepositStatus } from "../../infra/db/schema.js";
import { ALLOWED_TRANSITIONS, settlementOrder } from "../../test/settlement-fixtures.js";
import { DEPOSIT_STATUSES } from "../deposits/deposit-state.js";
import {
  planSettlement,
  type SettlementOrder,
  type SettlementResult,
  type SettlementTarget,
} from "./settlement-planner.js";

// The planner against the state machine written out pair by pair (not derived from the code
// under test), then against itself: a batch of results equals the same results one by one.

const TARGETS: SettlementTarget[] = ["processing", "succeeded", "failed", "expired", "cancelled"];
const NOW = 1_000;

const order = settlementOrder;
const result = (to: SettlementTarget, r: Partial<SettlementResult> = {}): SettlementResult => ({
  tenantId: "t1",
  depositId: "d1",
  to,
  cause: "callback",
  ...r,
});

describe("one result on a deposit in each status, every pair", () => {
  const expected = (current: DepositStatus, to: SettlementTarget) => {
    if (ALLOWED_TRANSITIONS.has(`${current}>${to}`)) return "applied";
    if (current === to) return "repeat";
    if (to === "succeeded" && (current === "expired" || current === "cancelled")) return "late";
    return "conflict";
  };
  for (const current of DEPOSIT_STATUSES) {
    for (const to of TARGETS) {
      it(`${to} on ${current}: ${expected(current, to)}`, () => {
        const p = planSettlement([order({ status: current })], NOW);
        const o = p.apply(result(to));
        expect(o.kind).toBe(expected(current, to));
        const w = p.writes();
        if (o.kind !== "applied") {
          if (o.kind === "conflict" || o.kind === "late") expect(o.current).toBe(current);
          expect(w).toMatchObject({ transitions: [], postings: [], events: [], webhooks: [], now: NOW });
          expect(p.statusOf({ id: "d1" })).toBe(current);
          return;
        }
        expect(o).toMatchObject({ from: current, to });
        expect(p.statusOf({ id: "d1" })).toBe(to);
        expect(w.transitions).toEqual([
          expect.objectContaining({
            id: "d1",
            expected: current,
            status: to,
            finalizedAt: to === "processing" ? null : NOW,
          }),
        ]);
        expect(w.events.map((e) => e.event)).toEqual([
          { kind: "status_change", data: { from: current, to, cause: "callback" } },
          ...(to === "succeeded"
            ? [
                {
                  kind: "ledger",
                  data: { entryId: o.ledgerEntryId, walletId: "w1", amount: "97.20", currency: "USD" },
                },
              ]
            : []),
        ]);
        expect(w.postings.map((x) => [x.depositId, x.amountMinor, x.walletId, x.entryId])).toEqual(
          to === "succeeded" ? [["d1", 9_720n, "w1", o.ledgerEntryId]] : [],
        );
        // The webhook events of the change (the outbox): the new status, then the credit.
        expect(
          w.webhooks.map((e) => [e.type, e.data.status, e.data.previousStatus, e.data.creditAmount]),
        ).toEqual([
          [`deposit.${to}`, to, current, "97.20"],
          ...(to === "succeeded" ? [["wallet.credited", "succeeded", current, "97.20"]] : []),
        ]);
        if (to === "succeeded")
          expect(w.webhooks[1]?.data).toMatchObject({ walletId: "w1", ledgerEntryId: o.ledgerEntryId });
      });
    }
  }
});

describe("what a result carries", () => {
  it("a success credits the given amount, keeps what was paid, and clears an earlier failure", () => {
    const p = planSettlement([order()], NOW);
    p.apply(
      result("succeeded", {
        creditMinor: 11_720n,
        paidAmountMinor: 12_000n,
        transactionId: "tx",
        pspTime: 7,
      }),
    );
    expect(p.current({ id: "d1" })).toMatchObject({ credit_minor: 11_720, paid_amount_minor: 12_000 });
    const [t] = p.writes().transitions;
    expect(t).toMatchObject({
      creditMinor: 11_720n,
      paidMinor: 12_000n,
      transactionId: "tx",
      pspTime: 7,
      failureReason: null,
      failureMessage: null,
      clearFailure: true,
    });
  });

  it("a failure keeps its reason and message; a failure without them keeps the stored ones", () => {
    const p = planSettlement([order(), order({ id: "d2", order_no: "o2" })], NOW);
    p.apply(result("failed", { cause: "api1", failureReason: "timeout", failureMessage: "Try later" }));
    p.apply(result("failed", { depositId: "d2" }));
    expect(p.writes().transitions.map((t) => [t.failureReason, t.failureMessage, t.clearFailure])).toEqual([
      ["timeout", "Try later", false],
      [null, null, false],
    ]);
  });

  it("onlyFrom narrows the sources: the API-1 failure leaves a processing order alone", () => {
    const p = planSettlement([order({ status: "processing" })], NOW);
    expect(p.apply(result("failed", { onlyFrom: ["pending"] }))).toEqual({
      kind: "conflict",
      current: "processing",
    });
    expect(p.writes().transitions).toEqual([]);
  });

  it("allowFrom widens them only for a person's late credit, and refuses any other move", () => {
    const p = planSettlement([order({ status: "expired" })], NOW);
    expect(p.apply(result("succeeded", { cause: "review", allowFrom: ["expired"] }))).toMatchObject({
      kind: "applied",
      from: "expired",
    });
    expect(() => p.apply(result("failed", { allowFrom: ["succeeded"] }))).toThrow(/allowFrom/);
  });

  it("an order not read, or another tenant's, is unknown and plans nothing", () => {
    const p = planSettlement([order()], NOW);
    expect(p.apply(result("succeeded", { depositId: "nope" }))).toEqual({ kind: "unknown" });
    expect(p.apply(result("succeeded", { tenantId: "t2" }))).toEqual({ kind: "unknown" });
    expect(p.writes().transitions).toEqual([]);
  });

  it("finds orders by id and order number, as read; current shows them as the batch left them", () => {
    const p = planSettlement([order()], NOW);
    p.apply(result("processing", { paidAmountMinor: 9_000n }));
    expect(p.find({ orderNo: "o1" })).toMatchObject({ status: "pending", paid_amount_minor: null });
    expect(p.current(p.find({ id: "d1" }) as SettlementOrder)).toMatchObject({
      status: "processing",
      paid_amount_minor: 9_000,
    });
    expect(p.find({ orderNo: "o2" })).toBeUndefined();
  });

  it("several results for one deposit: one transition, guarded by the status read, the last status", () => {
    const p = planSettlement([order()], NOW);
    p.apply(result("processing"));
    p.apply(result("succeeded"));
    expect(p.writes().transitions).toEqual([
      expect.objectContaining({ expected: "pending", status: "succeeded", finalizedAt: NOW }),
    ]);
    expect(p.writes().events.map((e) => e.event.kind)).toEqual(["status_change", "status_change", "ledger"]);
  });

  it("a client without a wallet: one new wallet per client and currency for all its credits", () => {
    const mk = (id: string, client: string, currency = "USD") =>
      order({ id, order_no: id, client_id: client, currency, wallet_id: null });
    const p = planSettlement([mk("a", "c1"), mk("b", "c1"), mk("c", "c2"), mk("d", "c1", "EUR")], NOW);
    for (const id of ["a", "b", "c", "d"]) p.apply(result("succeeded", { depositId: id }));
    const [a, b, c, d] = p.writes().postings.map((x) => x.walletId);
    expect(a).toBe(b);
    expect(new Set([a, c, d]).size).toBe(3);
  });
});

describe("a batch of results equals the same results applied one by one", () => {
  const ids = ["d1", "d2", "d3"];
  type Drawn = {
    depositId: string;
    to: SettlementTarget;
    tenantId: string;
    onlyPending: boolean;
    late: boolean;
  };
  const arbResult: fc.Arbitrary<Drawn> = fc.record({
    depositId: fc.constantFrom(...ids),
    to: fc.constantFrom(...TARGETS),
    tenantId: fc.constantFrom("t1", "t1", "t1", "t2"),
    onlyPending: fc.boolean(),
    late: fc.boolean(),
  });
  const asResult = (r: Drawn): SettlementResult => ({
    tenantId: r.tenantId,
    depositId: r.depositId,
    to: r.to,
    cause: "callback",
    ...(r.onlyPending && r.to === "failed" ? { onlyFrom: ["pending"] as DepositStatus[] } : {}),
    ...(r.late && r.to === "succeeded" ? { allowFrom: ["expired", "cancelled"] as DepositStatus[] } : {}),
  });

  it("same outcomes, same final statuses, same credits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...DEPOSIT_STATUSES), { minLength: 3, maxLength: 3 }),
        fc.array(arbResult, { maxLength: 12 }),
        (statuses, raw) => {
          const orders = ids.map((id, i) => order({ id, order_no: id, status: statuses[i] }));
          const results = raw.map(asResult);

          const batch = planSettlement(orders, NOW);
          const batchOutcomes = results.map((r) => batch.apply(r).kind);

          // One by one: each result alone over the orders as the previous ones left them.
          let now = orders;
          let credits = 0;
          const oneByOne = results.map((r) => {
            const p = planSettlement(now, NOW);
            const o = p.apply(r);
            credits += p.writes().postings.length;
            now = now.map((x) => p.current(x) as SettlementOrder);
            return o.kind;
          });

          expect(batchOutcomes).toEqual(oneByOne);
          expect(ids.map((id) => batch.statusOf({ id }))).toEqual(now.map((x) => x.status));
          expect(batch.writes().postings).toHaveLength(credits);
          // The batch's writes: one guarded transition per changed deposit, to where it ends.
          for (const t of batch.writes().transitions) {
            expect(t.expected).toBe(orders.find((x) => x.id === t.id)?.status);
            expect(t.status).toBe(batch.statusOf(t));
          }
        },
      ),
    );
  });
});

describe("an order with a quote (docs/exchange-rates.md)", () => {
  // 100.00 EUR, fee 2.50, credited 104.59 USD (markup kept 0.52) to the client's USD wallet.
  const quoted = (o: Partial<SettlementOrder> = {}) =>
    order({
      currency: "EUR",
      fee_minor: 250,
      credit_minor: 10_459,
      account_currency: "USD",
      account_decimals: 2,
      fx_rate: "1.0781",
      fx_markup_bps: 50,
      wallet_id: null,
      ...o,
    });

  it("credits the quote's account amount to a wallet of the account currency", () => {
    const p = planSettlement([quoted()], NOW);
    expect(p.apply(result("succeeded")).kind).toBe("applied");
    const w = p.writes();
    expect(w.postings).toMatchObject([{ currency: "USD", amountMinor: 10_459n, clientId: "c1" }]);
    expect(w.events.find((e) => e.event.kind === "ledger")?.event.data).toMatchObject({
      amount: "104.59",
      currency: "USD",
    });
    expect(w.transitions[0]).toMatchObject({ creditMinor: 10_459n, markupMinor: null });
  });

  it("a credit of another paid amount keeps what its markup kept", () => {
    const p = planSettlement([quoted({ decimals: 3, account_decimals: 6 })], NOW);
    p.apply(result("succeeded", { creditMinor: 5_229_000n, markupMinor: 27_000n, paidAmountMinor: 50_000n }));
    const w = p.writes();
    expect(w.transitions[0]).toMatchObject({
      creditMinor: 5_229_000n,
      markupMinor: 27_000n,
      paidMinor: 50_000n,
    });
    expect(w.events.find((e) => e.event.kind === "ledger")?.event.data).toMatchObject({
      amount: "5.229000",
      currency: "USD",
    });
  });

  it("two orders of one client crediting one account currency plan one new wallet", () => {
    const p = planSettlement(
      [quoted({ id: "d1", order_no: "o1" }), quoted({ id: "d2", order_no: "o2", currency: "GBP" })],
      NOW,
    );
    p.apply(result("succeeded"));
    p.apply(result("succeeded", { depositId: "d2" }));
    const [a, b] = p.writes().postings;
    expect(a?.walletId).toBe(b?.walletId);
  });
});
