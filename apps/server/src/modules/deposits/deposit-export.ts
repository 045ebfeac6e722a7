import type { Readable } from "node:stream";
import type { AppContext } from "../../app-context.js";
import { type CsvColumn, csvStream, isoTime } from "../../http/csv-export.js";
import type { Sort } from "../../infra/db/list-order.js";
import { type AdminDepositFilters, adminDepositBatches, type DepositSortColumn } from "./deposit-queries.js";
import type { AdminDepositView } from "./deposit-view.js";

/**
 * The deposit list as CSV. What a back-office row shows, amounts as decimal text, times in
 * ISO 8601 UTC. Never the payment URL (it carries the page's access key) nor the fields the
 * client typed (bank details): the detail page shows those one deposit at a time.
 */
export const DEPOSIT_CSV_COLUMNS: readonly CsvColumn<AdminDepositView>[] = [
  { header: "created_at", value: (d) => isoTime(d.createdAt) },
  { header: "order_no", value: (d) => d.orderNo },
  { header: "id", value: (d) => d.id },
  { header: "status", value: (d) => d.status },
  { header: "client_id", value: (d) => d.clientId },
  { header: "client_name", value: (d) => d.clientName },
  { header: "method", value: (d) => d.methodName },
  { header: "integration", value: (d) => d.integrationName },
  { header: "currency", value: (d) => d.currency },
  { header: "amount", value: (d) => d.amount },
  { header: "fee", value: (d) => d.fee },
  { header: "credit", value: (d) => d.credit },
  { header: "credit_currency", value: (d) => d.creditCurrency },
  { header: "fx_rate", value: (d) => d.quote?.rate ?? null },
  { header: "fx_source_rate", value: (d) => d.quote?.sourceRate ?? null },
  { header: "fx_markup_bps", value: (d) => d.quote?.markupBps ?? null },
  { header: "fx_source", value: (d) => d.quote?.sourceName ?? null },
  { header: "paid_amount", value: (d) => d.paidAmount },
  { header: "transaction_id", value: (d) => d.transactionId },
  { header: "failure_reason", value: (d) => d.failureReason },
  { header: "updated_at", value: (d) => isoTime(d.updatedAt) },
  { header: "finalized_at", value: (d) => isoTime(d.finalizedAt) },
];

export function exportDeposits(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  filters: AdminDepositFilters,
  sort: Sort<DepositSortColumn>,
): Readable {
  return csvStream(DEPOSIT_CSV_COLUMNS, adminDepositBatches(ctx, tenantId, filters, sort));
}
