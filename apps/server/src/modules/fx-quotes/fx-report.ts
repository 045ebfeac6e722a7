import { formatAmount } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { type CsvColumn, csvText } from "../../http/csv-export.js";

/** One pair of the FX report: succeeded deposits with a quote, volumes as decimal text. */
export type FxReportRow = {
  paymentCurrency: string;
  accountCurrency: string;
  deposits: number;
  /** What was paid (the PSP's reported amount, else the ordered one), payment currency. */
  paymentVolume: string;
  /** What was credited, account currency. */
  accountVolume: string;
  /** What the markups kept, account currency. */
  markupEarned: string;
};

const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));

/**
 * FX volume and markup earned per pair (payment → account currency) of one tenant: its
 * succeeded deposits with a quote finalized in [from, to). Summed in SQL in minor units per
 * (pair, exponents); a pair whose orders were counted in two exponents (data `psphub doctor`
 * reports) is added up at the finer one, exactly.
 */
export async function fxReport(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  range: { from: number; to: number },
): Promise<FxReportRow[]> {
  const rows = await ctx.db
    .selectFrom("deposits")
    .select((eb) => [
      "currency",
      "decimals",
      "account_currency",
      "account_decimals",
      eb.fn.countAll().as("n"),
      eb.fn.sum(eb.fn.coalesce("paid_amount_minor", "amount_minor")).as("payment"),
      eb.fn.sum("credit_minor").as("account"),
      eb.fn.sum(eb.fn.coalesce("fx_markup_minor", eb.lit(0))).as("markup"),
    ])
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "succeeded")
    .where("account_currency", "is not", null)
    .where("finalized_at", ">=", range.from)
    .where("finalized_at", "<", range.to)
    .groupBy(["currency", "decimals", "account_currency", "account_decimals"])
    .execute();

  type Sum = { pay: string; acc: string; pd: number; ad: number; n: number; p: bigint; a: bigint; m: bigint };
  const pairs = new Map<string, Sum>();
  const rescale = (v: bigint, from: number, to: number) => v * 10n ** BigInt(to - from);
  for (const r of rows) {
    const acc = r.account_currency ?? "";
    const ad = r.account_decimals ?? 0;
    const key = JSON.stringify([r.currency, acc]);
    const s = pairs.get(key);
    const p = big(r.payment);
    const a = big(r.account);
    const m = big(r.markup);
    if (!s) {
      pairs.set(key, { pay: r.currency, acc, pd: r.decimals, ad, n: Number(r.n), p, a, m });
      continue;
    }
    const pd = Math.max(s.pd, r.decimals);
    const ad2 = Math.max(s.ad, ad);
    s.p = rescale(s.p, s.pd, pd) + rescale(p, r.decimals, pd);
    s.a = rescale(s.a, s.ad, ad2) + rescale(a, ad, ad2);
    s.m = rescale(s.m, s.ad, ad2) + rescale(m, ad, ad2);
    s.pd = pd;
    s.ad = ad2;
    s.n += Number(r.n);
  }
  return [...pairs.values()]
    .sort((x, y) => (x.pay + x.acc < y.pay + y.acc ? -1 : x.pay + x.acc > y.pay + y.acc ? 1 : 0))
    .map((s) => ({
      paymentCurrency: s.pay,
      accountCurrency: s.acc,
      deposits: s.n,
      paymentVolume: formatAmount(s.p, s.pd),
      accountVolume: formatAmount(s.a, s.ad),
      markupEarned: formatAmount(s.m, s.ad),
    }));
}

export const FX_REPORT_CSV_COLUMNS: readonly CsvColumn<FxReportRow>[] = [
  { header: "payment_currency", value: (r) => r.paymentCurrency },
  { header: "account_currency", value: (r) => r.accountCurrency },
  { header: "deposits", value: (r) => r.deposits },
  { header: "payment_volume", value: (r) => r.paymentVolume },
  { header: "account_volume", value: (r) => r.accountVolume },
  { header: "markup_earned", value: (r) => r.markupEarned },
];

export const fxReportCsv = (rows: readonly FxReportRow[]): string =>
  csvText(FX_REPORT_CSV_COLUMNS, rows, true);
