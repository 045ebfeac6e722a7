import type { AdminDeposit, AdminDepositDetail, Alert, DepositMethod } from "./types.js";

/**
 * The exchange-rate shapes of the server's JSON (money and rates are decimal text). Written by
 * hand until the generated schema (lib/api-schema.d.ts) holds the exchange-rate routes; each
 * type names the route it mirrors so the generated one can replace it.
 */

export type FxSourceKind = "manual" | "external";

/** GET /api/admin/fx/sources, one item. */
export interface FxSource {
  id: string;
  kind: FxSourceKind;
  name: string;
  url: string | null;
  keyLast4: string | null;
  timeoutMs: number;
  ttlSeconds: number | null;
  /** A manual table's rate rows. */
  pairs: number;
  alert: { id: string; openedAt: number } | null;
  createdAt: number;
  updatedAt: number;
}

/** The body of POST /api/admin/fx/sources (PUT …/:id takes the same fields without kind). */
export type FxSourceInput =
  | { kind: "manual"; name: string; ttlSeconds?: number | null }
  | { kind: "external"; name: string; url: string; timeoutMs?: number; ttlSeconds?: number };

export type FxSourceUpdate =
  | { name: string; ttlSeconds?: number | null }
  | { name: string; url: string; timeoutMs?: number; ttlSeconds?: number };

/** POST /api/admin/fx/sources/:id/test: always 200. */
export type FxTestResult =
  | { ok: true; rate: string; rateTime: number; latencyMs: number }
  | { ok: false; reason: string; message: string; latencyMs: number };

/** GET /api/admin/fx/sources/:id/rates, one row. */
export interface FxManualRate {
  from: string;
  to: string;
  rate: string;
  markupBps: number;
  updatedAt: number;
  updatedBy: string | null;
}

/** A deposit method currency's conversion (null: it credits itself). */
export interface FxConversion {
  accountCurrency: string;
  accountDecimals: number;
  /** `group: null` is the default rule; a group's own rule wins. */
  rules: { group: string | null; sourceId: string; markupBps: number }[];
}

export type MethodCurrencyWithFx = DepositMethod["currencies"][number] & { conversion?: FxConversion | null };

/** The quote locked on a deposit (admin deposit views). */
export interface DepositQuote {
  paymentAmount: string;
  paymentCurrency: string;
  fee: string;
  accountAmount: string;
  accountCurrency: string;
  /** Effective, after markup. */
  rate: string;
  sourceRate: string;
  markupBps: number;
  markupAmount: string;
  sourceKind: FxSourceKind;
  sourceName: string;
  rateTime: number;
  quotedAt: number;
}

/** What the deposit views gain: the credit's currency and the quote. */
export interface DepositFx {
  creditCurrency?: string;
  quote?: DepositQuote | null;
}
export type AdminDepositFx = AdminDeposit & DepositFx;
export type AdminDepositDetailFx = AdminDepositDetail & DepositFx;

/** A ledger entry of a deposit with a quote. */
export interface LedgerFx {
  fx?: { paymentAmount: string; paymentCurrency: string; rate: string } | null;
}

/** GET /api/admin/reports/fx. */
export interface FxReportRow {
  paymentCurrency: string;
  accountCurrency: string;
  deposits: number;
  paymentVolume: string;
  accountVolume: string;
  markupEarned: string;
}
export interface FxReport {
  items: FxReportRow[];
  from: number;
  to: number;
}

/** An alert with what it is about: an integration, or a rate source (`fx_rate_stale`). */
export type AlertWithSubject = Omit<Alert, "kind"> & {
  kind: Alert["kind"] | "fx_rate_stale";
  subject?: { kind: "integration" | "rate_source" | (string & {}); id: string; name?: string | null } | null;
};
