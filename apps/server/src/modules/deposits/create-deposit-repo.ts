import { CompiledQuery } from "kysely";
import type { Db, DbKind } from "../../infra/db/database.js";
import { encodeJson } from "../../infra/db/database.js";
import type {
  ClientsTable,
  DepositMethodsTable,
  DepositsTable,
  PspIntegrationsTable,
} from "../../infra/db/schema.js";
import { toDepositMethod } from "../deposit-methods/method-model.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import {
  type DepositRow,
  type MethodWithIntegration,
  type NewDepositEvent,
  newEventId,
} from "./deposit-repo.js";

/**
 * The statements of creating a deposit, the hottest write path after API-2 (bench B3), as SQL
 * written once instead of a Kysely query built and compiled on every call (building and
 * compiling was as much CPU as running the SQL on SQLite). Same tables, columns, conditions and
 * transactions as the query-builder versions in deposit-repo.ts; every statement is scoped by
 * tenant_id. On PostgreSQL, where every statement is a round trip, each write step is one
 * statement (data-modifying CTEs run in the statement's own transaction, all or nothing)
 * instead of BEGIN, two statements and COMMIT; on SQLite each is a short transaction.
 */

/** SQL text with `?` placeholders for SQLite and `$n` for PostgreSQL (no `?` inside literals). */
type Statement = { sqlite: string; postgres: string };

function statement(text: string): Statement {
  const sqlite = text.replace(/\s+/g, " ").trim();
  let n = 0;
  return { sqlite, postgres: sqlite.replace(/\?/g, () => `$${++n}`) };
}

function run<R>(db: Db, kind: DbKind, s: Statement, parameters: readonly unknown[]) {
  return db.executeQuery<R>(CompiledQuery.raw(s[kind], parameters as unknown[]));
}

/** Every column of a table, checked by the compiler: a column added to the table must be added here. */
function allColumns<T>() {
  return <const C extends readonly (keyof T & string)[]>(
    cols: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : never),
  ) => cols;
}

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
  "created_at",
  "updated_at",
]);
const DEPOSIT_COLUMNS = allColumns<DepositsTable>()([
  "id",
  "tenant_id",
  "order_no",
  "client_id",
  "method_id",
  "integration_id",
  "currency",
  "decimals",
  "amount_minor",
  "fee_minor",
  "credit_minor",
  "paid_amount_minor",
  "status",
  "fields",
  "device",
  "language",
  "idempotency_key",
  "request_hash",
  "payment_url",
  "failure_reason",
  "failure_message",
  "transaction_id",
  "psp_time",
  "created_by",
  "expires_at",
  "created_at",
  "updated_at",
  "finalized_at",
]);

/** The client columns API-1 and the validation need (never the password hash). */
export type DepositClient = Pick<
  ClientsTable,
  "id" | "name" | "email" | "phone" | "nationality" | "language" | "client_group"
>;
const CLIENT_COLUMNS = [
  "id",
  "name",
  "email",
  "phone",
  "nationality",
  "language",
  "client_group",
] as const satisfies readonly (keyof DepositClient)[];

const aliased = (table: string, cols: readonly string[]) =>
  cols.map((c) => `${table}.${c} as ${table}_${c}`).join(", ");

// The method and its integration are joined to the client's row, each matched on its own id and
// the tenant (a method or integration of another tenant is never found), LEFT so that a missing
// method still returns the client: the caller tells "no client" from "no method".
const FIND_CONTEXT = statement(`
  select ${aliased("c", CLIENT_COLUMNS)}, ${aliased("m", METHOD_COLUMNS)}, ${aliased("i", INTEGRATION_COLUMNS)}
  from clients c
  left join deposit_methods m on m.tenant_id = ? and m.id = ?
  left join psp_integrations i on i.tenant_id = ? and i.id = m.integration_id
  where c.tenant_id = ? and c.id = ?`);

export type DepositContext = {
  client: DepositClient;
  /** The method with its integration; undefined when either is missing (or of another tenant). */
  methodWithIntegration: MethodWithIntegration | undefined;
};

function pick<T>(row: Record<string, unknown>, prefix: string, cols: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const c of cols) out[c] = row[`${prefix}_${c}`];
  return out as T;
}

/**
 * The client, the method and the method's integration in one query, all of the tenant.
 * Undefined when the client does not exist in the tenant.
 */
export async function findDepositContext(
  db: Db,
  kind: DbKind,
  t: { tenantId: string; clientId: string; methodId: string },
): Promise<DepositContext | undefined> {
  const { rows } = await run<Record<string, unknown>>(db, kind, FIND_CONTEXT, [
    t.tenantId,
    t.methodId,
    t.tenantId,
    t.tenantId,
    t.clientId,
  ]);
  const r = rows[0];
  if (!r) return undefined;
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

const EVENT_COLUMNS = "id, tenant_id, deposit_id, kind, data, created_at";

/** A timeline row's values in EVENT_COLUMNS order, as insertEventRows (deposit-repo.ts) writes it. */
function eventValues(e: NewDepositEvent): unknown[] {
  return [e.id ?? newEventId(), e.tenantId, e.depositId, e.event.kind, encodeJson(e.event.data), e.now];
}

const DEPOSIT_VALUES = `(${DEPOSIT_COLUMNS.join(", ")}) values (${DEPOSIT_COLUMNS.map(() => "?").join(", ")})`;
// Insert-or-ignore on (tenant, client, idempotency key): concurrent requests with one key never
// raise a constraint error (failure mode 3); NULL keys never conflict.
const ON_KEY_CONFLICT = "on conflict (tenant_id, client_id, idempotency_key) do nothing";

const INSERT_DEPOSIT = statement(`insert into deposits ${DEPOSIT_VALUES} ${ON_KEY_CONFLICT}`);
const INSERT_EVENT = statement(`insert into deposit_events (${EVENT_COLUMNS}) values (?, ?, ?, ?, ?, ?)`);
// PostgreSQL: the order and its `created` event in one statement; the event is written only
// when the order was (the CTE returns no row when the insert was ignored).
const INSERT_DEPOSIT_WITH_EVENT = statement(`
  with d as (insert into deposits ${DEPOSIT_VALUES} ${ON_KEY_CONFLICT} returning id)
  insert into deposit_events (${EVENT_COLUMNS})
  select ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint from d
  returning id`);

/**
 * Inserts a new order with its first timeline event (`event.depositId` is the order's id), all
 * or nothing, unless an order with the same (tenant, client, idempotency key) exists. Returns
 * whether this call inserted it.
 */
export async function insertDepositWithEvent(
  db: Db,
  kind: DbKind,
  row: DepositsTable,
  event: NewDepositEvent,
): Promise<boolean> {
  const values = DEPOSIT_COLUMNS.map((c) => row[c]);
  if (kind === "postgres") {
    const r = await run(db, kind, INSERT_DEPOSIT_WITH_EVENT, [...values, ...eventValues(event)]);
    return r.rows.length > 0;
  }
  return db.transaction().execute(async (trx) => {
    const r = await run(trx, kind, INSERT_DEPOSIT, values);
    if (Number(r.numAffectedRows ?? 0n) === 0) return false;
    await run(trx, kind, INSERT_EVENT, eventValues(event));
    return true;
  });
}

/** What the answer to a create request is made of. */
export type CreatedDepositRow = Pick<
  DepositRow,
  "id" | "order_no" | "status" | "payment_url" | "failure_reason" | "failure_message"
>;
const ANSWER_COLUMNS = "id, order_no, status, payment_url, failure_reason, failure_message";

// The URL is stored only on an order still open and without one (a cancelled or failed order
// keeps none; a callback that raced ahead keeps its status): as setPaymentUrl in deposit-repo.ts.
const SET_PAYMENT_URL_WHERE =
  "where tenant_id = ? and id = ? and status in ('pending', 'processing') and payment_url is null";
const SET_PAYMENT_URL = statement(`
  update deposits set payment_url = ?, updated_at = ? ${SET_PAYMENT_URL_WHERE}
  returning ${ANSWER_COLUMNS}`);
// PostgreSQL: the event and the update in one statement (the event is written either way).
const SET_PAYMENT_URL_WITH_EVENT = statement(`
  with e as (insert into deposit_events (${EVENT_COLUMNS}) values (?, ?, ?, ?, ?, ?))
  update deposits set payment_url = ?, updated_at = ? ${SET_PAYMENT_URL_WHERE}
  returning ${ANSWER_COLUMNS}`);

/**
 * Writes a timeline event (`api1_call`) and stores the payment URL of the order when it is still
 * open and has none, all or nothing. Returns the order as the update left it, `undefined` when
 * the update did not apply.
 */
export async function setPaymentUrlWithEvent(
  db: Db,
  kind: DbKind,
  t: { tenantId: string; id: string; url: string; now: number },
  event: NewDepositEvent,
): Promise<CreatedDepositRow | undefined> {
  const update = [t.url, t.now, t.tenantId, t.id];
  if (kind === "postgres") {
    const r = await run<CreatedDepositRow>(db, kind, SET_PAYMENT_URL_WITH_EVENT, [
      ...eventValues(event),
      ...update,
    ]);
    return r.rows[0];
  }
  return db.transaction().execute(async (trx) => {
    await run(trx, kind, INSERT_EVENT, eventValues(event));
    const r = await run<CreatedDepositRow>(trx, kind, SET_PAYMENT_URL, update);
    return r.rows[0];
  });
}
