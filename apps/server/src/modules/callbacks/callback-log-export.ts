import type { Readable } from "node:stream";
import type { AppContext } from "../../app-context.js";
import { type CsvColumn, csvStream, isoTime } from "../../http/csv-export.js";
import type { Sort } from "../../infra/db/list-order.js";
import {
  type CallbackLogFilter,
  type CallbackLogSortColumn,
  type CallbackLogView,
  callbackLogBatches,
} from "./callback-log-repo.js";

/**
 * An integration's callback log as CSV. The log never holds the request headers, so never the
 * `crm-pay-token`; the raw body is what the sender wrote (defused like every cell).
 */
export const CALLBACK_CSV_COLUMNS: readonly CsvColumn<CallbackLogView>[] = [
  { header: "created_at", value: (r) => isoTime(r.createdAt) },
  { header: "id", value: (r) => r.id },
  { header: "source", value: (r) => r.source },
  { header: "verdict", value: (r) => r.verdict },
  { header: "error_type", value: (r) => r.errorType },
  { header: "error_detail", value: (r) => r.errorDetail },
  { header: "http_status", value: (r) => r.httpStatus },
  { header: "request_count", value: (r) => r.requestCount },
  { header: "merchant_id", value: (r) => r.merchantId },
  { header: "order_no", value: (r) => r.orderNo },
  { header: "deposit_id", value: (r) => r.depositId },
  { header: "remote_addr", value: (r) => r.remoteAddr },
  { header: "content_type", value: (r) => r.contentType },
  { header: "raw_body", value: (r) => r.rawBody },
];

export function exportCallbackLog(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  integrationId: string,
  filter: CallbackLogFilter,
  sort: Sort<CallbackLogSortColumn>,
): Readable {
  return csvStream(CALLBACK_CSV_COLUMNS, callbackLogBatches(ctx.db, tenantId, integrationId, filter, sort));
}
