import { createMicroBatcher, type Settled } from "../../infra/batching/micro-batcher.js";
import { allColumns } from "../../infra/db/columns.js";
import { type Db, dialectOf } from "../../infra/db/database.js";
import type {
  ClientsTable,
  DepositMethodsTable,
  DepositsTable,
  PspIntegrationsTable,
} from "../../infra/db/schema.js";
import {
  forShare,
  insertRows,
  jsonArrayHolds,
  rowsAsTable,
  runSql,
  tableColumns,
} from "../../infra/db/sql-text.js";
import { writeThen } from "../../infra/db/write-batch.js";
import { toDepositMethod } from "../deposit-methods/method-model.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import { depositWebhook } from "../webhooks/deposit-webhook.js";
import { webhookEventWrites } from "../webhooks/outbox-repo.js";
import {
  DEPOSIT_EVENTS,
  type DepositRow,
  eventRow,
  type MethodWithIntegration,
  type NewDepositEvent,
} from "./deposit-repo.js";

/**
 * The statements of creating a deposit, the hottest write path after API-2 (bench B3), as
 * hand-written SQL (sql-text.ts) instead of a Kysely query built and compiled on every call
 * (building and compiling was as much CPU as running the SQL on SQLite). Same tables, columns,
 * conditions and transactions as the query-builder versions in deposit-repo.ts; every
 * statement is scoped by tenant_id. Each operation is written once for both databases: the
 * rows travel through `rowsAsTable`/`insertRows`, and the two write steps through `writeThen`
 * (write-batch.ts), which makes each step ONE statement on PostgreSQL, where every statement
 * is a round trip (data-modifying CTEs run in the statement's own transaction, all or
 * nothing), and one short transaction on SQLite. On PostgreSQL every statement has ONE text
 * whatever the number of rows, sent as a named statement (pg-prepared.ts): parsed and planned
 * once per connection. The two write steps are group-committed (see below).
 */

const METHOD_COLUMNS = allColumns<DepositMethodsTable>()([
  "id",
  "tenant_id",
  "integration_id",
  "name",
  "enabled",
  "sort_order",
  "currencies",
  "visibility",
  "client_groups",
  "field_labels",
  "order_ttl_seconds",
  "fallback_method_id",
  "deleted_at",
  "created_at",
  "updated_at",
]);
const INTEGRATION_COLUMNS = allColumns<PspIntegrationsTable>()([
  "id",
  "tenant_id",
  "name",
  "enabled",
  "app_url",
  "merchant_id",
  "token_enc",
  "prev_token_enc",
  "prev_token_expires_at",
  "token_rotated_at",
  "api1_timeout_ms",
  "amount_policy",
  "param_config",
  "custom_params",
  "status_query_enabled",
  "status_query_schedule",
  "status_query_timeout_ms",
  "created_at",
  "updated_at",
]);
/**
 * Every deposit column (the compiler checks that none is missing) with its PostgreSQL type (the
 * migration's), for the array its values are sent in.
 */
const DEPOSITS = tableColumns<DepositsTable>("deposits", {
  id: "text",
  tenant_id: "text",
  order_no: "text",
  client_id: "text",
  method_id: "text",
  integration_id: "text",
  currency: "text",
  decimals: "integer",
  amount_minor: "bigint",
  fee_minor: "bigint",
  credit_minor: "bigint",
  fee_rule_bps: "integer",
  fee_rule_fixed_minor: "bigint",
  fee_rule_max_minor: "bigint",
  paid_amount_minor: "bigint",
  status: "text",
  fields: "text",
  device: "text",
  language: "text",
  idempotency_key: "text",
  request_hash: "text",
  payment_url: "text",
  failure_reason: "text",
  failure_message: "text",
  transaction_id: "text",
  psp_time: "bigint",
  created_by: "text",
  expires_at: "bigint",
  created_at: "bigint",
  updated_at: "bigint",
  finalized_at: "bigint",
  status_query_due_at: "bigint",
  status_query_step: "integer",
  account_currency: "text",
  account_decimals: "integer",
  fx_rate: "text",
  fx_markup_bps: "integer",
  fx_markup_minor: "bigint",
  fx_source_kind: "text",
  fx_source_id: "text",
  fx_source_name: "text",
  fx_rate_time: "bigint",
  fx_quoted_at: "bigint",
});

/** The client columns API-1 and the validation need (never the password hash). */
export type DepositClient = Pick<
  ClientsTable,
  "id" | "name" | "email" | "phone" | "nationality" | "language" | "client_group" | "disabled"
>;
const CLIENT_COLUMNS = [
  "id",
  "name",
  "email",
  "phone",
  "nationality",
  "language",
  "client_group",
  "disabled",
] as const satisfies readonly (keyof DepositClient)[];

const aliased = (table: string, cols: readonly string[]) =>
  cols.map((c) => `${table}.${c} as ${table}_${c}`).join(", ");

const CONTEXT_COLUMNS = `${aliased("c", CLIENT_COLUMNS)}, ${aliased("m", METHOD_COLUMNS)}, ${aliased("i", INTEGRATION_COLUMNS)}`;

export type DepositContext = {
  client: DepositClient;
  /** The method with its integration; undefined when either is missing (or of another tenant). */
  methodWithIntegration: MethodWithIntegration | undefined;
};
export type ContextKey = { tenantId: string; clientId: string; methodId: string };

function pick<T>(row: Record<string, unknown>, prefix: string, cols: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const c of cols) out[c] = row[`${prefix}_${c}`];
  return out as T;
}

function toContext(r: Record<string, unknown>): DepositContext {
  const client = pick<DepositClient>(r, "c", CLIENT_COLUMNS);
  if (r.m_id === null || r.m_id === undefined || r.i_id === null || r.i_id === undefined)
    return { client, methodWithIntegration: undefined };
  const methodRow = pick<DepositMethodsTable>(r, "m", METHOD_COLUMNS);
  const integrationRow = pick<PspIntegrationsTable>(r, "i", INTEGRATION_COLUMNS);
  return {
    client,
    methodWithIntegration: {
      method: toDepositMethod(methodRow),
      deletedAt: methodRow.deleted_at,
      integration: toIntegration(integrationRow),
      integrationRow,
      methodRow,
    },
  };
}

/** What the answer to a create request is made of. */
export type CreatedDepositRow = Pick<
  DepositRow,
  "id" | "order_no" | "status" | "payment_url" | "failure_reason" | "failure_message"
>;
const ANSWER_COLUMNS = [
  "id",
  "order_no",
  "status",
  "payment_url",
  "failure_reason",
  "failure_message",
] as const;

type ContextKeyRow = { n: number; tenant_id: string; client_id: string; method_id: string };
const CONTEXT_KEYS = tableColumns<ContextKeyRow>("v", {
  n: "integer",
  tenant_id: "text",
  client_id: "text",
  method_id: "text",
});

/** One text of each statement per database, built once per writer (per AppContext). */
function depositSql(db: Db) {
  return {
    // The contexts of n requests (one row per request whose client exists). The method and its
    // integration are joined to the client's row, each matched on its own id and the tenant (a
    // method or integration of another tenant is never found), LEFT so that a missing method
    // still returns the client: the caller tells "no client" from "no method".
    contexts: withFromItem(
      (keys: FromItem) => `
      SELECT v.n, ${CONTEXT_COLUMNS}
      FROM ${keys}
      JOIN clients c ON c.tenant_id = v.tenant_id AND c.id = v.client_id
      LEFT JOIN deposit_methods m ON m.tenant_id = v.tenant_id AND m.id = v.method_id
      LEFT JOIN psp_integrations i ON i.tenant_id = v.tenant_id AND i.id = m.integration_id`,
    ),

    /*
     * Insert-or-ignore on (tenant, client, idempotency key): concurrent requests with one key
     * never raise a constraint error (docs/failure-modes.md#failure-mode-3); NULL keys never conflict.
     *
     * The order was built from its method as read before this insert (its currency's
     * decimals). The insert only happens while that method is live and still gives the
     * currency those decimals: a change committed in between (update-method.ts checks the
     * orders holding a currency before changing its decimals, and saw none of this one) would
     * otherwise leave an order, then a wallet, in another exponent than the tenant's. A refused row is not inserted, as one whose key is taken; the caller tells them
     * apart. Where the database has row locks (PostgreSQL) the method row is locked FOR SHARE:
     * a change in progress (update-method.ts locks the row first) is waited for, and its
     * committed version is checked again (READ COMMITTED re-checks a locked row that changed);
     * a change that starts later waits for this order and then sees it. The WHERE also keeps
     * SQLite from reading ON CONFLICT as a join's constraint.
     */
    insertDeposits: withFromItem(
      (rows: FromItem) => `
      INSERT INTO deposits (${DEPOSITS.names.join(", ")})
      SELECT v.* FROM ${rows}
      WHERE EXISTS (
        SELECT 1 FROM deposit_methods m
        WHERE m.tenant_id = v.tenant_id AND m.id = v.method_id AND m.deleted_at IS NULL
          AND ${jsonArrayHolds(db, "m.currencies", { code: "v.currency", decimals: "v.decimals" })}${forShare(db)})
      ON CONFLICT (tenant_id, client_id, idempotency_key) DO NOTHING
      RETURNING id`,
    ),
    // Each inserted order's `created` event (`d`: the orders the insert returned).
    insertCreatedEvents: withFromItem(
      (events: FromItem) => `
      INSERT INTO deposit_events (${DEPOSIT_EVENTS.names.join(", ")})
      SELECT v.* FROM ${events} JOIN d ON d.id = v.deposit_id
      RETURNING deposit_id`,
    ),

    // The URL is stored only on an order still open and without one (a cancelled or failed
    // order keeps none; a callback that raced ahead keeps its status): as setPaymentUrl in
    // deposit-repo.ts. The `api1_call` events are written either way.
    setPaymentUrls: withFromItem(
      (urls: FromItem) => `
      UPDATE deposits SET payment_url = v.url, updated_at = v.now,
        status_query_due_at = v.query_due_at, status_query_step = 0
      FROM ${urls}
      WHERE deposits.tenant_id = v.tenant_id AND deposits.id = v.id
        AND deposits.status IN ('pending', 'processing') AND deposits.payment_url IS NULL
      RETURNING ${ANSWER_COLUMNS.map((c) => `deposits.${c}`).join(", ")}`,
    ),
  };
}
/** A FROM item's SQL (`rowsAsTable`), named `v`. */
type FromItem = string;

/** A text around one FROM item, its whitespace collapsed once instead of on every call. */
function withFromItem(text: (from: FromItem) => string): (from: FromItem) => string {
  const [head, tail] = text("\u0000").replace(/\s+/g, " ").trim().split("\u0000");
  return (from) => `${head}${from}${tail}`;
}

type SetUrlRow = { url: string; now: number; tenant_id: string; id: string; query_due_at: number | null };
const SET_URLS = tableColumns<SetUrlRow>("v", {
  url: "text",
  now: "bigint",
  tenant_id: "text",
  id: "text",
  query_due_at: "bigint",
});

/*
 * Group commit. The two write steps of every deposit creation go through a batcher: the steps
 * that arrive while one batch is being written are written together in the next one: ONE
 * transaction on SQLite (a commit writes each touched page once for all of them: under bench
 * B3's load a third of the WAL writes and file locks per deposit), ONE statement on PostgreSQL
 * (one round trip). A lone request waits for nothing but the end of the current I/O phase.
 * Each deposit's own rows stay all or nothing; when a batch fails (a unique violation, a
 * deadlock, a deleted client), it rolls back whole and every item is retried alone, so one bad
 * item never fails another.
 */
const BATCH_MAX = 64;

type InsertItem = { row: DepositsTable; event: NewDepositEvent };
type SetUrlItem = {
  url: string;
  now: number;
  tenantId: string;
  id: string;
  queryDueAt: number | null;
  event: NewDepositEvent;
};

/** A batch; when it fails, each of its items alone (its own transaction or statement). */
function aloneOnFailure<I, O>(run: (items: I[]) => Promise<O[]>) {
  const each = async (items: I[]): Promise<Settled<O>[]> => {
    try {
      return (await run(items)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (items.length === 1) return [{ ok: false, error }];
      const out: Settled<O>[] = [];
      for (const item of items) out.push(...(await each([item])));
      return out;
    }
  };
  return each;
}

/**
 * Deposit creation's reads and writes, over the root database: it takes no transaction, since
 * each write is committed with its batch. One per AppContext (app-context.ts): three
 * micro-batchers of at most 64 items each, one batch in flight on SQLite (one writer), two on
 * PostgreSQL (as API-2's batches).
 */
export type DepositWriter = {
  /**
   * The client, the method and the method's integration in one query, all of the tenant.
   * Undefined when the client does not exist in the tenant. On PostgreSQL the lookups of the
   * requests that arrive together are one query (one round trip); SQLite runs each at once.
   */
  findContext(key: ContextKey): Promise<DepositContext | undefined>;
  /**
   * Inserts a new order with its first timeline event (`event.depositId` is the order's id), all
   * or nothing, unless an order with the same (tenant, client, idempotency key) exists (also one
   * earlier in the same batch), or its method is no longer live with the order's currency in the
   * order's decimals (it changed since it was read). Returns whether this call inserted it.
   */
  insert(row: DepositsTable, event: NewDepositEvent): Promise<boolean>;
  /**
   * Writes a timeline event (`api1_call`) and stores the payment URL of the order when it is
   * still open and has none, all or nothing. Returns the order as the update left it,
   * `undefined` when the update did not apply.
   */
  setPaymentUrl(
    /** `queryDueAt`: the first API-3 query's due time, when the integration has API-3 on. */
    t: { tenantId: string; id: string; url: string; now: number; queryDueAt?: number | null },
    event: NewDepositEvent,
  ): Promise<CreatedDepositRow | undefined>;
};

export function createDepositWriter(db: Db): DepositWriter {
  const q = depositSql(db);

  async function findContexts(keys: ContextKey[]): Promise<(DepositContext | undefined)[]> {
    const v = rowsAsTable(
      db,
      CONTEXT_KEYS,
      keys.map((k, n) => ({ n, tenant_id: k.tenantId, client_id: k.clientId, method_id: k.methodId })),
    );
    const { rows } = await runSql<Record<string, unknown>>(db, {
      sql: q.contexts(v.sql),
      parameters: v.parameters,
    });
    if (keys.length === 1) return [rows[0] ? toContext(rows[0]) : undefined];
    const byN = new Map(rows.map((r) => [Number(r.n), r]));
    return keys.map((_, n) => {
      const r = byN.get(n);
      return r ? toContext(r) : undefined;
    });
  }

  async function insertDeposits(items: InsertItem[]): Promise<boolean[]> {
    const orders = rowsAsTable(
      db,
      DEPOSITS,
      items.map((i) => i.row),
    );
    const events = rowsAsTable(
      db,
      DEPOSIT_EVENTS,
      items.map((i) => eventRow(i.event)),
    );
    // Each new order's `deposit.created` webhook event, in the same statement (the outbox).
    const webhooks = webhookEventWrites(
      db,
      items.map((i) =>
        depositWebhook(
          { ...i.row, paid_amount_minor: null, transaction_id: null, failure_reason: null },
          {
            type: "deposit.created",
            previousStatus: null,
            cause: i.event.event.kind === "created" ? i.event.event.data.by : "client",
            now: i.event.now,
          },
        ),
      ),
      { ofOrdersIn: "d" },
    );
    const inserted = await writeThen<{ deposit_id: string }>(
      db,
      { sql: q.insertDeposits(orders.sql), parameters: orders.parameters },
      { sql: q.insertCreatedEvents(events.sql), parameters: events.parameters },
      { readsFirst: true, also: webhooks },
    );
    const ids = new Set(inserted.map((x) => x.deposit_id));
    return items.map(({ row }) => ids.has(row.id));
  }

  async function setPaymentUrls(items: SetUrlItem[]): Promise<(CreatedDepositRow | undefined)[]> {
    const urls = rowsAsTable(
      db,
      SET_URLS,
      items.map((i) => ({
        url: i.url,
        now: i.now,
        tenant_id: i.tenantId,
        id: i.id,
        query_due_at: i.queryDueAt,
      })),
    );
    const set = await writeThen<CreatedDepositRow>(
      db,
      insertRows(
        db,
        DEPOSIT_EVENTS,
        items.map((i) => eventRow(i.event)),
      ),
      { sql: q.setPaymentUrls(urls.sql), parameters: urls.parameters },
    );
    const byId = new Map(set.map((x) => [x.id, x]));
    return items.map((i) => byId.get(i.id));
  }

  // One writer on SQLite; on PostgreSQL two batches at once at most, as API-2's batches.
  const postgres = dialectOf(db) === "postgres";
  const opts = { maxBatch: BATCH_MAX, concurrency: postgres ? 2 : 1 };
  const insert = createMicroBatcher(aloneOnFailure(insertDeposits), opts);
  const setUrl = createMicroBatcher(aloneOnFailure(setPaymentUrls), opts);
  // A lookup is a round trip on PostgreSQL only: SQLite answers each at once, in process.
  const context = postgres ? createMicroBatcher(aloneOnFailure(findContexts), opts) : undefined;
  return {
    async findContext(key) {
      if (context) return context.submit(key);
      return (await findContexts([key]))[0];
    },
    insert: (row, event) => insert.submit({ row, event }),
    setPaymentUrl: (t, event) => setUrl.submit({ ...t, queryDueAt: t.queryDueAt ?? null, event }),
  };
}
