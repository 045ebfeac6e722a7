import { sql } from "kysely";
import { newId } from "../../common/ids.js";
import type { Db } from "../../infra/db/database.js";
import {
  applySort,
  keysetBatches,
  keysetOf,
  type Sort,
  type SortSpec,
  textKey,
} from "../../infra/db/list-order.js";
import type { CallbackLogsTable } from "../../infra/db/schema.js";
import { insertRows, tableColumns } from "../../infra/db/sql-text.js";
import type { BatchWrite } from "../../infra/db/write-batch.js";
import type { CallbackDiagnosis } from "./callback-detail.js";

/** Most characters of a raw body kept in the log (bodies over the route's limit are never read). */
export const RAW_BODY_LOG_CAP = 16_384;

/**
 * Most characters kept of a body refused before its token and sign passed: anyone who knows a
 * merchant_id can send those, so only enough to see what was sent.
 */
export const REFUSED_BODY_LOG_CAP = 512;

/** The part of a refused request's body that the log keeps. */
export function refusedBodyPrefix(raw: string | undefined): string | undefined {
  return raw !== undefined && raw.length > REFUSED_BODY_LOG_CAP ? raw.slice(0, REFUSED_BODY_LOG_CAP) : raw;
}

export type CallbackLogInput = Omit<CallbackLogsTable, "id" | "raw_body" | "request_count"> & {
  raw_body: string | undefined;
  /** 1 unless the row summarises throttled requests. */
  request_count?: number;
};

/**
 * One row per API-2 callback, whatever its outcome. Never the headers, so never the token.
 * handle-callback.ts writes the rows of a batch with its settlement, and again in a transaction
 * of its own for a lone callback whose settlement rolled back on the ledger's unique guard, so a
 * rolled-back duplicate keeps its record (docs/failure-modes.md#failure-mode-4; callback-guards.db.test.ts).
 */
export async function insertCallbackLog(db: Db, log: CallbackLogInput): Promise<string> {
  const [id] = await insertCallbackLogs(db, [log]);
  return id as string;
}

/** Several callbacks' rows in one statement, in order; returns their ids. */
export async function insertCallbackLogs(db: Db, logs: readonly CallbackLogInput[]): Promise<string[]> {
  if (logs.length === 0) return [];
  const rows = logs.map(callbackLogRow);
  await db.insertInto("callback_logs").values(rows).execute();
  return rows.map((r) => r.id);
}

/**
 * The same rows as {@link insertCallbackLogs}, as hand-written SQL for a batch of writes
 * (write-batch.ts), and their ids.
 */
export function callbackLogsWrite(db: Db, logs: readonly CallbackLogInput[]): BatchWrite & { ids: string[] } {
  const rows = logs.map(callbackLogRow);
  return { ...insertRows(db, CALLBACK_LOGS, rows), ids: rows.map((r) => r.id) };
}

const CALLBACK_LOGS = tableColumns<CallbackLogsTable>("callback_logs", {
  id: "text",
  tenant_id: "text",
  integration_id: "text",
  deposit_id: "text",
  merchant_id: "text",
  order_no: "text",
  content_type: "text",
  raw_body: "text",
  verdict: "text",
  error_type: "text",
  http_status: "integer",
  remote_addr: "text",
  created_at: "bigint",
  request_count: "integer",
  source: "text",
  error_detail: "text",
  diagnosis: "text",
  withdrawal_id: "text",
});

/** Where a log row came from: API-2, an API-3 answer, API-5, or a payout status answer. */
export const CALLBACK_LOG_SOURCES = [
  "callback",
  "status_query",
  "payout_callback",
  "payout_status_query",
] as const;

/** A callback's log row, with a new id, and its texts cut to what is kept. */
function callbackLogRow(log: CallbackLogInput): CallbackLogsTable {
  return {
    ...log,
    id: newId(),
    request_count: log.request_count ?? 1,
    source: log.source ?? "callback",
    withdrawal_id: log.withdrawal_id ?? null,
    error_detail: log.error_detail == null ? null : storable(log.error_detail, 500),
    // Never cut (a cut JSON text would not parse): callback-detail.ts bounds what it holds.
    diagnosis: log.diagnosis == null ? null : storable(log.diagnosis, Number.POSITIVE_INFINITY),
    raw_body: storable(log.raw_body ?? "", RAW_BODY_LOG_CAP),
    content_type: log.content_type === null ? null : storable(log.content_type, 200),
    merchant_id: log.merchant_id === null ? null : storable(log.merchant_id, 200),
    order_no: log.order_no === null ? null : storable(log.order_no, 200),
  };
}

/** Adds `n` throttled requests to a summary row. */
export async function addToCallbackLogCount(db: Db, id: string, n: number): Promise<void> {
  await db
    .updateTable("callback_logs")
    .set((eb) => ({ request_count: eb("request_count", "+", n) }))
    .where("id", "=", id)
    .execute();
}

/** Cut to `max` characters, with U+0000 (which PostgreSQL text refuses) shown as U+FFFD. */
function storable(text: string, max: number): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  return cut.includes("\u0000") ? cut.replaceAll("\u0000", "\uFFFD") : cut;
}

export type CallbackLogView = {
  id: string;
  createdAt: number;
  verdict: CallbackLogsTable["verdict"];
  errorType: string | null;
  /** Why it was refused, as the answer said (callback-detail.ts). */
  errorDetail: string | null;
  diagnosis: CallbackDiagnosis | null;
  httpStatus: number;
  merchantId: string | null;
  orderNo: string | null;
  depositId: string | null;
  contentType: string | null;
  rawBody: string;
  remoteAddr: string | null;
  /** 1, or for a summary of throttled requests (httpStatus 429) how many it stands for. */
  requestCount: number;
  /** `callback` (API-2) or `status_query` (an API-3 answer). */
  source: (typeof CALLBACK_LOG_SOURCES)[number];
  withdrawalId: string | null;
};

/** The callback log's sortable columns (`sort=column:dir`). */
export const CALLBACK_LOG_SORT_COLUMNS = ["created_at", "verdict", "http_status"] as const;
export type CallbackLogSortColumn = (typeof CALLBACK_LOG_SORT_COLUMNS)[number];

const callbackLogSort: SortSpec<CallbackLogSortColumn> = {
  id: "id",
  keys: (db) => ({
    created_at: [sql.ref("created_at")],
    verdict: [textKey(db, sql.ref("verdict"))],
    http_status: [sql.ref("http_status")],
  }),
};

export type CallbackLogFilter = {
  verdict?: CallbackLogsTable["verdict"];
  errorType?: string;
  source?: (typeof CALLBACK_LOG_SOURCES)[number];
};
const NEWEST_FIRST: Sort<CallbackLogSortColumn> = { column: "created_at", dir: "desc" };

function filteredLogs(db: Db, tenantId: string, integrationId: string, f: CallbackLogFilter) {
  let q = db
    .selectFrom("callback_logs")
    .where("tenant_id", "=", tenantId)
    .where("integration_id", "=", integrationId);
  if (f.verdict) q = q.where("verdict", "=", f.verdict);
  if (f.errorType) q = q.where("error_type", "=", f.errorType);
  if (f.source) q = q.where("source", "=", f.source);
  return q;
}

/** An integration's callbacks in the sort's order (newest first by default). The caller has checked the integration's tenant. */
export async function listCallbackLogs(
  db: Db,
  tenantId: string,
  integrationId: string,
  f: CallbackLogFilter & { limit: number; offset: number; sort?: Sort<CallbackLogSortColumn> },
): Promise<{ items: CallbackLogView[]; total: number }> {
  const q = filteredLogs(db, tenantId, integrationId, f);
  const rows = await applySort(db, q.selectAll(), callbackLogSort, f.sort ?? NEWEST_FIRST)
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const count = await q.select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
  return { total: Number(count.n), items: rows.map(callbackLogView) };
}

/** Every callback of the filtered log in the sort's order, one keyset page at a time (the CSV export). */
export function callbackLogBatches(
  db: Db,
  tenantId: string,
  integrationId: string,
  f: CallbackLogFilter,
  sort: Sort<CallbackLogSortColumn>,
): AsyncGenerator<CallbackLogView[]> {
  const keyCount = callbackLogSort.keys(db)[sort.column].length;
  return keysetBatches(async (after, limit) => {
    const rows = await applySort(
      db,
      filteredLogs(db, tenantId, integrationId, f).selectAll(),
      callbackLogSort,
      sort,
      after,
    )
      .limit(limit)
      .execute();
    const last = rows.at(-1);
    return {
      rows: rows.map(callbackLogView),
      last: last && keysetOf(last as Record<string, unknown>, keyCount, last.id),
    };
  });
}

function parseDiagnosis(text: string): CallbackDiagnosis | null {
  try {
    return JSON.parse(text) as CallbackDiagnosis;
  } catch {
    return null;
  }
}

function callbackLogView(r: CallbackLogsTable): CallbackLogView {
  return {
    id: r.id,
    createdAt: r.created_at,
    verdict: r.verdict,
    errorType: r.error_type,
    errorDetail: r.error_detail ?? null,
    diagnosis: r.diagnosis ? parseDiagnosis(r.diagnosis) : null,
    httpStatus: r.http_status,
    merchantId: r.merchant_id,
    orderNo: r.order_no,
    depositId: r.deposit_id,
    withdrawalId: r.withdrawal_id ?? null,
    contentType: r.content_type,
    rawBody: r.raw_body,
    remoteAddr: r.remote_addr,
    requestCount: Number(r.request_count ?? 1),
    source: r.source ?? "callback",
  };
}
