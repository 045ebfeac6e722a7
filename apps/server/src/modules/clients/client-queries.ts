import { formatAmount } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { toBigInt } from "../../infra/db/database.js";
import { keysetBatches } from "../../infra/db/list-order.js";
import type { LedgerEntriesTable } from "../../infra/db/schema.js";
import { effectiveRate } from "../fx-quotes/quote-model.js";
import { type Client, toClient } from "./client-model.js";
import { type ClientListFilter, createClientRepo, type Page } from "./client-repo.js";
import { currencyDecimalsResolver, findWalletExponentMismatches } from "./currency-decimals.js";
import { findLedgerMismatches } from "./ledger.js";

export type WalletView = {
  id: string;
  currency: string;
  /** Decimal text in the currency's exponent, e.g. "162.48". */
  balance: string;
  /** Minor units as decimal text (a string, since it is a bigint). */
  balanceMinor: string;
  /** What open withdrawals hold, and what the client may still withdraw (balance − held). */
  held: string;
  available: string;
  createdAt: number;
};

export type LedgerEntryView = {
  id: string;
  walletId: string;
  currency: string;
  /** Decimal text, negative for debits. */
  amount: string;
  kind: LedgerEntriesTable["kind"];
  depositId: string | null;
  memo: string | null;
  createdAt: number;
  /** A deposit credited through a quote: what was paid, and the rate after the markup; else null. */
  fx: { paymentAmount: string; paymentCurrency: string; rate: string } | null;
};

type Ctx = Pick<AppContext, "db">;

export async function listClients(
  ctx: Ctx,
  tenantId: string,
  filter: ClientListFilter,
): Promise<{ items: Client[]; total: number }> {
  const { rows, total } = await createClientRepo(ctx.db).list(tenantId, filter);
  return { items: rows.map(toClient), total };
}

async function walletsOf(ctx: Ctx, tenantId: string, clientId: string): Promise<WalletView[]> {
  const rows = await createClientRepo(ctx.db).wallets(tenantId, clientId);
  if (rows.length === 0) return [];
  const decimals = await currencyDecimalsResolver(ctx.db, tenantId);
  return rows.map((w) => {
    const minor = toBigInt(w.balance_minor);
    const held = toBigInt(w.held_minor);
    const d = decimals(w.currency);
    return {
      id: w.id,
      currency: w.currency,
      balance: formatAmount(minor, d),
      balanceMinor: minor.toString(),
      held: formatAmount(held, d),
      available: formatAmount(minor - held, d),
      createdAt: w.created_at,
    };
  });
}

/** One client with its wallets; 404 when missing or another tenant's. */
export async function getClient(
  ctx: Ctx,
  tenantId: string,
  clientId: string,
): Promise<Client & { wallets: WalletView[] }> {
  const row = await createClientRepo(ctx.db).find(tenantId, clientId);
  if (!row) throw new NotFoundError("Client");
  return { ...toClient(row), wallets: await walletsOf(ctx, tenantId, clientId) };
}

/** The portal's view: the logged-in client's own wallets. */
export async function clientWallets(ctx: Ctx, tenantId: string, clientId: string): Promise<WalletView[]> {
  return walletsOf(ctx, tenantId, clientId);
}

type LedgerRow = Awaited<ReturnType<ReturnType<typeof createClientRepo>["ledger"]>>["rows"][number];

const ledgerEntryView =
  (decimals: (currency: string) => number) =>
  (e: LedgerRow): LedgerEntryView => ({
    id: e.id,
    walletId: e.wallet_id,
    currency: e.currency,
    amount: formatAmount(toBigInt(e.amount_minor), decimals(e.currency)),
    kind: e.kind,
    depositId: e.deposit_id,
    memo: e.memo,
    createdAt: e.created_at,
    fx: ledgerFx(e),
  });

/** The payment side of a deposit entry with a quote: the amount paid (else ordered), the effective rate. */
function ledgerFx(e: LedgerRow): LedgerEntryView["fx"] {
  if (e.account_currency === null || e.fx_rate === null || e.payment_currency === null) return null;
  const paid = e.paid_amount_minor ?? e.ordered_minor;
  if (paid === null || e.payment_decimals === null) return null;
  return {
    paymentAmount: formatAmount(toBigInt(paid), e.payment_decimals),
    paymentCurrency: e.payment_currency,
    rate: effectiveRate(e.fx_rate, e.fx_markup_bps ?? 0),
  };
}

/** A client's ledger entries across its wallets, newest first; 404 when the client is not the tenant's. */
export async function clientLedger(
  ctx: Ctx,
  tenantId: string,
  clientId: string,
  page: Page,
): Promise<{ items: LedgerEntryView[]; total: number }> {
  const repo = createClientRepo(ctx.db);
  if (!(await repo.find(tenantId, clientId))) throw new NotFoundError("Client");
  const { rows, total } = await repo.ledger(tenantId, clientId, page);
  const decimals = await currencyDecimalsResolver(ctx.db, tenantId);
  return { items: rows.map(ledgerEntryView(decimals)), total };
}

/**
 * A client's whole ledger, newest first, one keyset page at a time (the CSV export); 404, before
 * anything is sent, when the client is not the tenant's.
 */
export async function clientLedgerBatches(
  ctx: Ctx,
  tenantId: string,
  clientId: string,
): Promise<AsyncGenerator<LedgerEntryView[]>> {
  const repo = createClientRepo(ctx.db);
  if (!(await repo.find(tenantId, clientId))) throw new NotFoundError("Client");
  const decimals = await currencyDecimalsResolver(ctx.db, tenantId);
  return keysetBatches(async (after, limit) => {
    const { rows, last } = await repo.ledgerAfter(tenantId, clientId, after, limit);
    return { rows: rows.map(ledgerEntryView(decimals)), last };
  });
}

/**
 * The ledger invariants for one tenant: every wallet balance equals the sum of its entries, and
 * every entry of a wallet is counted in the wallet's exponent (a deposit entry in its order's
 * decimals), or the sum means nothing.
 */
export async function checkLedger(ctx: Ctx, tenantId: string) {
  const mismatches = await findLedgerMismatches(ctx.db, tenantId);
  const exponentMismatches = await findWalletExponentMismatches(ctx.db, tenantId);
  return {
    ok: mismatches.length === 0 && exponentMismatches.length === 0,
    mismatches: mismatches.map((m) => ({
      walletId: m.walletId,
      balanceMinor: m.balanceMinor.toString(),
      ledgerSumMinor: m.ledgerSumMinor.toString(),
      heldMinor: m.heldMinor.toString(),
      holdSumMinor: m.holdSumMinor.toString(),
    })),
    exponentMismatches,
  };
}
