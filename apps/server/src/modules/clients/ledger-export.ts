import type { Readable } from "node:stream";
import type { AppContext } from "../../app-context.js";
import { type CsvColumn, csvStream, isoTime } from "../../http/csv-export.js";
import { clientLedgerBatches, type LedgerEntryView } from "./client-queries.js";

/** A client's ledger as CSV, newest first: amounts as decimal text (negative for debits), times ISO 8601 UTC. */
export const LEDGER_CSV_COLUMNS: readonly CsvColumn<LedgerEntryView>[] = [
  { header: "created_at", value: (e) => isoTime(e.createdAt) },
  { header: "id", value: (e) => e.id },
  { header: "wallet_id", value: (e) => e.walletId },
  { header: "currency", value: (e) => e.currency },
  { header: "amount", value: (e) => e.amount },
  { header: "kind", value: (e) => e.kind },
  { header: "deposit_id", value: (e) => e.depositId },
  { header: "memo", value: (e) => e.memo },
  { header: "payment_amount", value: (e) => e.fx?.paymentAmount ?? null },
  { header: "payment_currency", value: (e) => e.fx?.paymentCurrency ?? null },
  { header: "rate", value: (e) => e.fx?.rate ?? null },
];

/** 404 (thrown before anything is sent) when the client is not the tenant's. */
export async function exportClientLedger(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  clientId: string,
): Promise<Readable> {
  return csvStream(LEDGER_CSV_COLUMNS, await clientLedgerBatches(ctx, tenantId, clientId));
}
