import { formatAmount } from "@psphub/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { createGuardedClient, type GuardedClient } from "../../infra/http-out/guarded-client.js";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  type TestDeposit,
  testDepositOf,
  walletBalance,
} from "../../test/callback-client.js";
import {
  eurCreditingUsd,
  insertClient,
  insertPaymentSetup,
  type PaymentFixture,
  USD,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";
import { findExponentProblems } from "../clients/currency-decimals.js";
import type { MethodCurrency } from "../deposit-methods/method-model.js";
import { createDeposit } from "../deposits/create-deposit.js";
import { creditForPaid, orderAmounts } from "../deposits/paid-credit.js";
import type { RateAnswer, RateLookup, RateRequest } from "../fx-rates/rate-lookup.js";
import { fxReport } from "./fx-report.js";
import { quoteDeposit } from "./quote-deposit.js";
import { buildQuote, quoteColumns } from "./quote-model.js";

/*
 * The two-sided deposit on real storage (docs/exchange-rates.md): the quote locked at creation,
 * the credit of the account side by API-2 on the account currency's wallet, tokens, refusals,
 * credit_paid at the locked rate, the report. The rates come from a lookup built here from a map
 * (the use-cases take it as an explicit dependency).
 */

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let stub: Api1Stub;
let httpOut: GuardedClient;
let sourceId: string;
let exact: PaymentFixture;
let creditPaid: PaymentFixture;
let held: PaymentFixture;

/** A lookup answering from `rates` (pair "EUR>USD" → rate), `stale` pairs refused as stale. */
function mapLookup() {
  const rates = new Map<string, { rate: string; pairMarkupBps: number; validUntil: number | null }>();
  const stale = new Set<string>();
  const asked: RateRequest[] = [];
  const lookup: RateLookup = {
    async rateFor(req, now): Promise<RateAnswer> {
      asked.push(req);
      const key = `${req.from}>${req.to}`;
      if (stale.has(key)) return { ok: false, reason: "stale", message: "stale" };
      const r = rates.get(key);
      if (!r || req.sourceId !== sourceId) return { ok: false, reason: "no_rate", message: "no rate" };
      return {
        ok: true,
        rate: r.rate,
        rateTime: now - 1_000,
        validUntil: r.validUntil,
        sourceKind: "manual",
        sourceId: req.sourceId,
        sourceName: "House rates",
        pairMarkupBps: r.pairMarkupBps,
      };
    },
  };
  return { lookup, rates, stale, asked };
}
let fx: ReturnType<typeof mapLookup>;

async function insertSource(tenantId: string): Promise<string> {
  const id = newId();
  await t.ctx.db
    .insertInto("fx_sources")
    .values({
      id,
      tenant_id: tenantId,
      kind: "manual",
      name: "House rates",
      url: null,
      key_enc: null,
      key_last4: null,
      timeout_ms: 3000,
      ttl_seconds: null,
      created_at: 1,
      updated_at: 1,
      deleted_at: null,
    })
    .execute();
  return id;
}

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t, "fx-deposits");
  stub = await startApi1Stub();
  httpOut = createGuardedClient({ allowPrivate: true });
  sourceId = await insertSource(tenant.tenantId);
  const eur = eurCreditingUsd(sourceId);
  exact = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url, currencies: [USD, eur] });
  creditPaid = await insertPaymentSetup(t.ctx, tenant.tenantId, {
    appUrl: stub.url,
    currencies: [USD, eur],
    amountPolicy: "credit_paid",
  });
  held = await insertPaymentSetup(t.ctx, tenant.tenantId, {
    appUrl: stub.url,
    currencies: [USD, eur],
    amountPolicy: "review",
  });
  fx = mapLookup();
  fx.rates.set("EUR>USD", { rate: "1.0781", pairMarkupBps: 50, validUntil: null });
});
afterAll(async () => {
  await httpOut?.close();
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

const deps = () => ({ ...t.ctx, httpOut, fxRates: fx.lookup });
const asClient = (f: PaymentFixture) => ({
  kind: "client" as const,
  tenantId: f.tenantId,
  clientId: f.clientId,
});

/** A EUR order made through the use-case (API-1 answered by the stub), as the callback client knows it. */
async function eurDeposit(f: PaymentFixture, amount = "100.00", quoteToken?: string): Promise<TestDeposit> {
  stub.token = f.token;
  const view = await createDeposit(deps(), asClient(f), {
    methodId: f.methodId,
    currency: "EUR",
    amount,
    quoteToken,
  });
  expect(view.status).toBe("pending");
  return testDepositOf(t.ctx, view.id);
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { status: err.statusCode, code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
};
const depositCount = async () =>
  Number(
    (
      await t.ctx.db
        .selectFrom("deposits")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("tenant_id", "=", tenant.tenantId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("a EUR payment credited to the USD wallet", () => {
  it("locks the quote at creation; a rate change before API-2 changes nothing; the USD wallet is credited once", async () => {
    const usdBefore = await walletBalance(t.ctx, exact.clientId, "USD");
    const dep = await eurDeposit(exact);
    const row = await depositRow(t.ctx, dep.id);
    // 100.00 EUR, fee 2.50 EUR, 97.50 at 1.0781 less 50 bps = 104.59 USD (markup kept 0.52 USD).
    expect(row).toMatchObject({
      currency: "EUR",
      amount_minor: 10_000,
      fee_minor: 250,
      credit_minor: 10_459,
      account_currency: "USD",
      account_decimals: 2,
      fx_rate: "1.0781",
      fx_markup_bps: 50,
      fx_markup_minor: 52,
      fx_source_kind: "manual",
      fx_source_id: sourceId,
      fx_source_name: "House rates",
    });
    // API-1 carries the payment side.
    expect(stub.requests.at(-1)?.json).toMatchObject({ currency: "EUR" });

    fx.rates.set("EUR>USD", { rate: "2.5", pairMarkupBps: 0, validUntil: null });
    try {
      expect((await sendSignedCallback(t.app, exact, dep)).statusCode).toBe(204);
      expect((await sendSignedCallback(t.app, exact, dep)).statusCode).toBe(204);
    } finally {
      fx.rates.set("EUR>USD", { rate: "1.0781", pairMarkupBps: 50, validUntil: null });
    }
    expect(await walletBalance(t.ctx, exact.clientId, "USD")).toBe(usdBefore + 10_459n);
    expect(await walletBalance(t.ctx, exact.clientId, "EUR")).toBe(0n);
    const entries = await ledgerEntriesOf(t.ctx, dep.id);
    expect(entries.map((e) => Number(e.amount_minor))).toEqual([10_459]);
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({ status: "succeeded", credit_minor: 10_459 });

    // The views: both sides, the credit in the account currency; the ledger shows the payment side.
    const detail = (await tenant.viewer.get(`/api/admin/deposits/${dep.id}`)).json();
    expect(detail).toMatchObject({
      currency: "EUR",
      amount: "100.00",
      credit: "104.59",
      creditCurrency: "USD",
      quote: {
        paymentAmount: "100.00",
        paymentCurrency: "EUR",
        fee: "2.50",
        accountAmount: "104.59",
        accountCurrency: "USD",
        rate: "1.0727095",
        sourceRate: "1.0781",
        markupBps: 50,
        markupAmount: "0.52",
        sourceName: "House rates",
      },
    });
    const created = detail.timeline.find((e: { kind: string }) => e.kind === "created");
    expect(created.data.quote).toMatchObject({
      accountAmount: "104.59",
      accountCurrency: "USD",
      rate: "1.0781",
    });
    const ledger = (await tenant.viewer.get(`/api/admin/clients/${exact.clientId}/ledger`)).json();
    expect(ledger.items.find((e: { depositId: string }) => e.depositId === dep.id)).toMatchObject({
      currency: "USD",
      amount: "104.59",
      fx: { paymentAmount: "100.00", paymentCurrency: "EUR", rate: "1.0727095" },
    });
  });

  it("a stale rate refuses the deposit with 503 fx_rate_unavailable and creates nothing", async () => {
    const before = await depositCount();
    const calls = stub.requests.length;
    fx.stale.add("EUR>USD");
    try {
      expect(
        await refusal(
          createDeposit(deps(), asClient(exact), { methodId: exact.methodId, currency: "EUR", amount: "50" }),
        ),
      ).toEqual({
        status: 503,
        code: "fx_rate_unavailable",
        message: "The EUR → USD exchange rate is not available right now. Try again in a few minutes.",
      });
      expect(
        await refusal(
          quoteDeposit(deps(), asClient(exact), { methodId: exact.methodId, currency: "EUR", amount: "50" }),
        ),
      ).toMatchObject({ status: 503 });
    } finally {
      fx.stale.delete("EUR>USD");
    }
    expect(await depositCount()).toBe(before);
    expect(stub.requests.length).toBe(calls);
  });

  it("an order in the payment currency itself quotes no rate and credits as before", async () => {
    const q = await quoteDeposit(deps(), asClient(exact), {
      methodId: exact.methodId,
      currency: "USD",
      amount: "100",
    });
    expect(q).toMatchObject({
      payment: { amount: "100.00", currency: "USD", fee: "2.80", net: "97.20" },
      account: { amount: "97.20", currency: "USD" },
      fx: null,
      validUntil: null,
      token: null,
    });
    const old = await insertDeposit(t.ctx, exact);
    const before = await walletBalance(t.ctx, exact.clientId, "USD");
    expect((await sendSignedCallback(t.app, exact, old)).statusCode).toBe(204);
    expect(await walletBalance(t.ctx, exact.clientId, "USD")).toBe(before + 9_720n);
    const view = (await tenant.viewer.get(`/api/admin/deposits/${old.id}`)).json();
    expect(view).toMatchObject({ credit: "97.20", creditCurrency: "USD", quote: null });
  });
});

describe("quote tokens", () => {
  const quote = (f: PaymentFixture, amount = "200.00") =>
    quoteDeposit(deps(), asClient(f), { methodId: f.methodId, currency: "EUR", amount });

  it("a valid token locks exactly the quote shown, even after the rate changed", async () => {
    const q = await quote(exact);
    expect(q).toMatchObject({
      payment: { amount: "200.00", currency: "EUR", fee: "5.00", net: "195.00" },
      account: { amount: "209.18", currency: "USD" },
      fx: { rate: "1.0727095", sourceRate: "1.0781", markupBps: 50, sourceKind: "manual" },
    });
    expect(q.validUntil).toBe(q.quotedAt + t.ctx.config.fxQuoteValidityMs);
    fx.rates.set("EUR>USD", { rate: "0.5", pairMarkupBps: 0, validUntil: null });
    let dep: TestDeposit;
    try {
      dep = await eurDeposit(exact, "200.00", q.token ?? undefined);
    } finally {
      fx.rates.set("EUR>USD", { rate: "1.0781", pairMarkupBps: 50, validUntil: null });
    }
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      credit_minor: 20_918,
      fx_rate: "1.0781",
      fx_quoted_at: q.quotedAt,
    });
  });

  it("expired, altered, or for another amount, client or method: 409 and nothing created", async () => {
    const q = await quote(exact);
    const token = q.token as string;
    const before = await depositCount();
    const create = (over: {
      amount?: string;
      clientId?: string;
      methodId?: string;
      token?: string;
      now?: number;
    }) =>
      createDeposit(
        { ...deps(), clock: { now: () => over.now ?? Date.now() } },
        { kind: "client", tenantId: tenant.tenantId, clientId: over.clientId ?? exact.clientId },
        {
          methodId: over.methodId ?? exact.methodId,
          currency: "EUR",
          amount: over.amount ?? "200.00",
          quoteToken: over.token ?? token,
        },
      );
    expect(await refusal(create({ now: (q.validUntil as number) + 1 }))).toMatchObject({
      status: 409,
      code: "quote_expired",
    });
    const [payload, mac] = token.split(".");
    const tampered = `${payload}.${mac?.startsWith("A") ? "B" : "A"}${mac?.slice(1)}`;
    expect(await refusal(create({ token: tampered }))).toMatchObject({ status: 409, code: "quote_mismatch" });
    expect(await refusal(create({ amount: "200.01" }))).toMatchObject({
      status: 409,
      code: "quote_mismatch",
    });
    const other = await insertClient(t.ctx, tenant.tenantId);
    expect(await refusal(create({ clientId: other.clientId }))).toMatchObject({
      status: 409,
      code: "quote_mismatch",
    });
    expect(await refusal(create({ methodId: creditPaid.methodId }))).toMatchObject({
      status: 409,
      code: "quote_mismatch",
    });
    expect(await depositCount()).toBe(before);
  });

  it("the idempotency key's request content leaves the token out", async () => {
    const key = `k-${newId()}`;
    const first = await quote(exact);
    const second = await quote(exact);
    stub.token = exact.token;
    const a = await createDeposit(deps(), asClient(exact), {
      methodId: exact.methodId,
      currency: "EUR",
      amount: "200.00",
      quoteToken: first.token ?? undefined,
      idempotencyKey: key,
    });
    const b = await createDeposit(deps(), asClient(exact), {
      methodId: exact.methodId,
      currency: "EUR",
      amount: "200.00",
      quoteToken: second.token ?? undefined,
      idempotencyKey: key,
    });
    expect(b).toMatchObject({ id: a.id, replayed: true });
  });
});

describe("credit_paid with a quote", () => {
  it("converts the paid amount at the LOCKED rate and markup, never today's", async () => {
    const dep = await eurDeposit(creditPaid, "100.00");
    const row = await depositRow(t.ctx, dep.id);
    const before = await walletBalance(t.ctx, creditPaid.clientId, "USD");
    fx.rates.set("EUR>USD", { rate: "3", pairMarkupBps: 0, validUntil: null });
    try {
      const res = await sendSignedCallback(t.app, creditPaid, dep, { amount: { literal: "50.00" } });
      expect(res.statusCode).toBe(204);
    } finally {
      fx.rates.set("EUR>USD", { rate: "1.0781", pairMarkupBps: 50, validUntil: null });
    }
    // 50.00 EUR, fee 1.25, 48.75 × 1.0727095 = 52.2945881… → 52.29 USD; at 1.0781 52.557… → 52.56.
    const expected = creditForPaid(5_000n, orderAmounts(row));
    expect(expected).toEqual({ feeMinor: 125n, creditMinor: 5_229n, markupMinor: 27n });
    expect(await walletBalance(t.ctx, creditPaid.clientId, "USD")).toBe(before + 5_229n);
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      status: "succeeded",
      paid_amount_minor: 5_000,
      credit_minor: 5_229,
      fx_markup_minor: 27,
    });
  });
});

describe("a held payment of another amount, credited from review", () => {
  it("converts at the locked rate; the review item shows the credit in the account currency", async () => {
    const dep = await eurDeposit(held, "100.00");
    const before = await walletBalance(t.ctx, held.clientId, "USD");
    fx.rates.set("EUR>USD", { rate: "0.9", pairMarkupBps: 0, validUntil: null });
    try {
      const res = await sendSignedCallback(t.app, held, dep, { amount: { literal: "50.00" } });
      expect(res.statusCode).toBe(204);
      const item = await t.ctx.db
        .selectFrom("review_items")
        .select("id")
        .where("deposit_id", "=", dep.id)
        .executeTakeFirstOrThrow();
      const listed = (await tenant.viewer.get("/api/admin/review?reason=amount_mismatch&limit=200")).json();
      expect(listed.items.find((i: { id: string }) => i.id === item.id)).toMatchObject({
        deposit: { currency: "EUR", amount: "100.00", credit: "104.59", creditCurrency: "USD" },
        claim: { paidAmount: "50.00", fee: "1.25", credit: "52.29" },
      });
      const resolved = await tenant.finance.post(`/api/admin/review/${item.id}/resolve`, {
        action: "credit",
        comment: "paid half",
      });
      expect(resolved.statusCode, resolved.body).toBe(200);
    } finally {
      fx.rates.set("EUR>USD", { rate: "1.0781", pairMarkupBps: 50, validUntil: null });
    }
    expect(await walletBalance(t.ctx, held.clientId, "USD")).toBe(before + 5_229n);
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      status: "succeeded",
      credit_minor: 5_229,
      fx_markup_minor: 27,
    });
  });
});

describe("the FX report", () => {
  it("sums succeeded deposits with a quote per pair, finalized in the range, JSON and CSV", async () => {
    const own = await seedTenant(t, "fx-report");
    const src = await insertSource(own.tenantId);
    const eur = eurCreditingUsd(src);
    const f = await insertPaymentSetup(t.ctx, own.tenantId, { currencies: [USD, eur] });
    const quoted = (
      amount: number,
      fee: number,
      credit: number,
      markup: number,
      status: "succeeded" | "failed",
      finalizedAt: number,
    ) =>
      insertDeposit(t.ctx, f, {
        currency: "EUR",
        amount_minor: amount,
        fee_minor: fee,
        credit_minor: credit,
        status,
        finalized_at: finalizedAt,
        account_currency: "USD",
        account_decimals: 2,
        fx_rate: "1.0781",
        fx_markup_bps: 50,
        fx_markup_minor: markup,
        fx_source_kind: "manual",
        fx_source_id: src,
        fx_source_name: "House rates",
        fx_rate_time: 1,
        fx_quoted_at: 1,
      });
    // Fixture rows straight in a final status (the invariants allow them: no timeline, no credit
    // is checked for them except that a succeeded one with a credit has exactly one).
    await quoted(10_000, 250, 10_459, 52, "succeeded", 1_000);
    await quoted(20_000, 500, 20_918, 105, "succeeded", 2_000);
    await quoted(30_000, 750, 1, 1, "failed", 2_000);
    await quoted(40_000, 1_000, 1, 1, "succeeded", 9_000);
    await insertDeposit(t.ctx, f, { status: "succeeded", finalized_at: 1_500 });
    expect(await fxReport(t.ctx, own.tenantId, { from: 0, to: 5_000 })).toEqual([
      {
        paymentCurrency: "EUR",
        accountCurrency: "USD",
        deposits: 2,
        paymentVolume: "300.00",
        accountVolume: "313.77",
        markupEarned: "1.57",
      },
    ]);
    const json = (await own.viewer.get("/api/admin/reports/fx?from=0&to=5000")).json();
    expect(json).toEqual({
      items: [expect.objectContaining({ deposits: 2, accountVolume: "313.77" })],
      from: 0,
      to: 5000,
    });
    const csv = await own.viewer.get("/api/admin/reports/fx?from=0&to=5000&format=csv");
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.body).toBe(
      "payment_currency,account_currency,deposits,payment_volume,account_volume,markup_earned\r\nEUR,USD,2,300.00,313.77,1.57\r\n",
    );
    // Another tenant's report does not see them.
    expect(await fxReport(t.ctx, tenant.tenantId, { from: 0, to: 5_000 })).toEqual([]);
  });
});

describe("method conversion settings", () => {
  const body = (conversion: unknown, code = "EUR") => ({
    name: `FX ${newId()}`,
    integrationId: exact.integrationId,
    currencies: [{ code, min: "10", max: "1000", conversion }],
  });
  it("validates the account side with field paths and shows it back; the portal names the account currency", async () => {
    const bad = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body({ accountCurrency: "USD", rules: [{ group: null, sourceId: "nope", markupBps: 0 }] }),
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues).toEqual([
      { path: "currencies.0.conversion.rules.0.sourceId", message: "Rate source not found" },
    ]);
    const same = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body({ accountCurrency: "EUR", rules: [{ group: null, sourceId, markupBps: 0 }] }),
    );
    expect(same.json().error.issues.map((i: { path: string }) => i.path)).toEqual([
      "currencies.0.conversion.accountCurrency",
    ]);
    const tooMuch = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body({ accountCurrency: "USD", rules: [{ group: null, sourceId, markupBps: 5001 }] }),
    );
    expect(tooMuch.statusCode).toBe(400);
    // A wallet currency keeps one exponent: USDX credited at 6 by one method, not at 2 by another.
    const at6 = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body({ accountCurrency: "USDX", accountDecimals: 6, rules: [{ group: null, sourceId, markupBps: 0 }] }),
    );
    expect(at6.statusCode, at6.body).toBe(201);
    const at2 = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body(
        { accountCurrency: "USDX", accountDecimals: 2, rules: [{ group: null, sourceId, markupBps: 0 }] },
        "GBP",
      ),
    );
    expect(at2.statusCode).toBe(400);
    expect(at2.json().error.issues.map((i: { path: string }) => i.path)).toEqual([
      "currencies.0.conversion.accountDecimals",
    ]);
    const ok = await tenant.admin.post(
      "/api/admin/deposit-methods",
      body({
        accountCurrency: "USD",
        rules: [
          { group: null, sourceId, markupBps: 25 },
          { group: "vip", sourceId, markupBps: 0 },
        ],
      }),
    );
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().currencies[0].conversion).toEqual({
      accountCurrency: "USD",
      accountDecimals: 2,
      rules: [
        { group: null, sourceId, markupBps: 25 },
        { group: "vip", sourceId, markupBps: 0 },
      ],
    });
    const stored = await t.ctx.db
      .selectFrom("deposit_methods")
      .select("currencies")
      .where("id", "=", ok.json().id)
      .executeTakeFirstOrThrow();
    expect(stored.currencies).toContain(`"source_id":"${sourceId}"`);

    const portal = await loginClient(t.app, tenant.slug, exact.clientEmail, exact.clientPassword);
    const methods = (await portal.get("/api/portal/deposit-methods")).json();
    const mine = methods.items.find((m: { id: string }) => m.id === exact.methodId);
    expect(
      mine.currencies.map((c: { code: string; accountCurrency: string | null }) => [
        c.code,
        c.accountCurrency,
      ]),
    ).toEqual([
      ["USD", null],
      ["EUR", "USD"],
    ]);
    // The portal's quote route answers the same as the use-case.
    const q = await portal.post("/api/portal/deposit-quote", {
      methodId: exact.methodId,
      currency: "USD",
      amount: "100",
    });
    expect(q.statusCode).toBe(200);
    expect(q.json()).toMatchObject({ fx: null, token: null, account: { amount: "97.20", currency: "USD" } });
  });
});

describe("property: the wallet credit of a success equals the quote's account amount", () => {
  it("for any amount, rate and exponents (0, 2, 3, 6, 8), through API-2", async () => {
    const own = await seedTenant(t, "fx-property");
    const src = await insertSource(own.tenantId);
    const exps = [0, 2, 3, 6, 8] as const;
    // One payment code per exponent (PAY0…), one account code per exponent (ACC0…): a currency
    // keeps one exponent per tenant.
    const currencies: MethodCurrency[] = exps.flatMap((pd) =>
      exps.map((ad) => ({
        code: `P${pd}A${ad}`,
        decimals: pd,
        minMinor: 1n,
        maxMinor: 10n ** 15n,
        feePercentBps: 0,
        feeFixedMinor: 0n,
        feeMaxMinor: null,
        conversion: {
          account: `ACC${ad}`,
          accountDecimals: ad,
          rules: [{ group: null, sourceId: src, markupBps: 0 }],
        },
      })),
    );
    const f = await insertPaymentSetup(t.ctx, own.tenantId, { currencies });
    const rateText = fc
      .tuple(fc.bigInt({ min: 1n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 12 }))
      .map(([d, s]) => {
        const x = d.toString().padStart(s + 1, "0");
        return s === 0 ? x : `${x.slice(0, -s)}.${x.slice(-s)}`;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...exps),
        fc.constantFrom(...exps),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.nat({ max: 10_000 }),
        rateText,
        fc.integer({ min: 0, max: 5_000 }),
        async (pd, ad, amount, feeBps, rate, markup) => {
          const currency = currencies.find((c) => c.code === `P${pd}A${ad}`)!;
          const quoteOf = (amt: bigint) => {
            const fee = (amt * BigInt(feeBps)) / 20_000n;
            return {
              fee,
              q: buildQuote(
                {
                  tenantId: own.tenantId,
                  clientId: f.clientId,
                  methodId: f.methodId,
                  clientGroup: null,
                  currency,
                  amountMinor: amt,
                  feeMinor: fee,
                },
                {
                  ok: true,
                  rate,
                  rateTime: 1,
                  validUntil: null,
                  sourceKind: "manual",
                  sourceId: src,
                  sourceName: "House rates",
                  pairMarkupBps: markup,
                },
                1,
                120_000,
              ),
            };
          };
          // Wallet balances are BIGINT read back as JS numbers: keep each credit (and 200 of them)
          // well inside 2^53, dividing the amount until it fits.
          let amt = amount;
          let { fee, q } = quoteOf(amt);
          while (q && q.accountMinor > 10n ** 13n && amt > 1n) {
            amt = amt / 1000n + 1n;
            ({ fee, q } = quoteOf(amt));
          }
          if (!q) throw new Error("no quote");
          fc.pre(q.accountMinor <= 10n ** 13n);
          const dep = await insertDeposit(t.ctx, f, {
            currency: currency.code,
            decimals: pd,
            amount_minor: Number(amt),
            fee_minor: Number(fee),
            credit_minor: Number(q.accountMinor),
            fee_rule_bps: 0,
            fee_rule_fixed_minor: 0,
            fee_rule_max_minor: null,
            ...quoteColumns(q),
          });
          const before = await walletBalance(t.ctx, f.clientId, q.accountCurrency);
          const res = await sendSignedCallback(t.app, f, dep);
          expect(res.statusCode, res.body).toBe(204);
          const after = await walletBalance(t.ctx, f.clientId, q.accountCurrency);
          expect(after - before).toBe(q.accountMinor);
          const [entry] = await ledgerEntriesOf(t.ctx, dep.id);
          expect(BigInt(entry?.amount_minor ?? -1)).toBe(q.accountMinor);
          expect(formatAmount(q.accountMinor, ad)).toBeTypeOf("string");
        },
      ),
      { numRuns: 200 },
    );
    // Every wallet counts in its account currency's exponent: `psphub doctor` finds nothing mixed.
    expect(await findExponentProblems(t.ctx.db, own.tenantId)).toEqual({
      methods: [],
      orders: [],
      wallets: [],
    });
  }, 120_000);
});
