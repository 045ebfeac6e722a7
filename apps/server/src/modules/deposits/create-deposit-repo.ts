import { createMicroBatcher, type Settled } from "../../infra/batching/micro-batcher.js";
import { allColumns } from "../../infra/db/columns.js";
import { type Db, type DbKind, dialectOf, writeTransaction } from "../../infra/db/database.js";
import type {
  ClientsTable,
  DepositMethodsTable,
  DepositsTable,
  PspIntegrationsTable,
} from "../../infra/db/schema.js";
import {
  columnsOf,
  runStatement as run,
  statement,
  tableColumns,
  unnestOf,
} from "../../infra/db/sql-text.js";
import { toDepositMethod } from "../deposit-methods/method-model.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import {
  DEPOSIT_EVENTS,
  type DepositRow,
  eventRow,
  type MethodWithIntegration,
  type NewDepositEvent,
} from "./deposit-repo.js";

/**
 * The statements of creating a deposit, the hottest write path after API-2 (bench B3), as SQL
 * written once instead of a Kysely query built and compiled on every call (building and
 * compiling was as much CPU as running the SQL on SQLite). Same tables, columns, conditions and
 * transactions as the query-builder versions in deposit-repo.ts; every statement is scoped by
 * tenant_id. The two write steps are group-committed (see below): on PostgreSQL, where every
 * statement is a round trip, a batch is one statement (data-modifying CTEs run in the
 * statement's own transaction, all or nothing) instead of BEGIN, two statements and COMMIT per
 * deposit; on SQLite a batch is one short transaction.
 *
 * On PostgreSQL each statement has ONE text whatever the batch size (the rows come as one array
 * per column, `unnest`ed), sent as a named statement (pg-prepared.ts): parsed and planned once
 * per connection instead of on every call.
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
});
const DEPOSIT_COLUMNS = DEPOSITS.names;

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
const CONTEXT_COLUMNS = `${aliased("c", CLIENT_COLUMNS)}, ${aliased("m", METHOD_COLUMNS)}, ${aliased("i", INTEGRATION_COLUMNS)}`;
const FIND_CONTEXT = statement(`
  select ${CONTEXT_COLUMNS}
  from clients c
  left join deposit_methods m on m.tenant_id = ? and m.id = ?
  left join psp_integrations i on i.tenant_id = ? and i.id = m.integration_id
  where c.tenant_id = ? and c.id = ?`);
// PostgreSQL: the contexts of n requests in one round trip (same joins, one row per request found).
const PG_FIND_CONTEXTS = statement(`
  select v.n, ${CONTEXT_COLUMNS}
  from unnest(?::int[], ?::text[], ?::text[], ?::text[]) as v (n, tenant_id, client_id, method_id)
  join clients c on c.tenant_id = v.tenant_id and c.id = v.client_id
  left join deposit_methods m on m.tenant_id = v.tenant_id and m.id = v.method_id
  left join psp_integrations i on i.tenant_id = v.tenant_id and i.id = m.integration_id`);

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

async function findContexts(
  db: Db,
  kind: DbKind,
  keys: ContextKey[],
): Promise<(DepositContext | undefined)[]> {
  if (kind === "postgres") {
    const { rows } = await run<Record<string, unknown>>(db, PG_FIND_CONTEXTS, [
      keys.map((_, n) => n),
      keys.map((k) => k.tenantId),
      keys.map((k) => k.clientId),
      keys.map((k) => k.methodId),
    ]);
    const byN = new Map(rows.map((r) => [Number(r.n), r]));
    return keys.map((_, n) => {
      const r = byN.get(n);
      return r ? toContext(r) : undefined;
    });
  }
  const out: (DepositContext | undefined)[] = [];
  for (const k of keys) {
    const { rows } = await run<Record<string, unknown>>(db, FIND_CONTEXT, [
      k.tenantId,
      k.methodId,
      k.tenantId,
      k.tenantId,
      k.clientId,
    ]);
    out.push(rows[0] ? toContext(rows[0]) : undefined);
  }
  return out;
}

const EVENT_COLUMNS = DEPOSIT_EVENTS.names.join(", ");

/** A timeline row's values in EVENT_COLUMNS order, as insertEventRows (deposit-repo.ts) writes it. */
function eventValues(e: NewDepositEvent): unknown[] {
  const row = eventRow(e);
  return DEPOSIT_EVENTS.names.map((c) => row[c]);
}

const EVENT_PLACEHOLDERS = `(${DEPOSIT_EVENTS.names.map(() => "?").join(", ")})`;

const DEPOSITS_UNNEST = unnestOf(DEPOSITS.types);
const EVENTS_UNNEST = unnestOf(DEPOSIT_EVENTS.types);

// Insert-or-ignore on (tenant, client, idempotency key): concurrent requests with one key never
// raise a constraint error (failure mode 3); NULL keys never conflict.
const ON_KEY_CONFLICT = "on conflict (tenant_id, client_id, idempotency_key) do nothing";

/*
 * The order was built from its method as read before this insert (its currency's decimals).
 * The insert only happens while that method is live and still gives the currency those
 * decimals: a change committed in between (update-method.ts checks the orders holding a
 * currency before changing its decimals, and saw none of this one) would otherwise leave an
 * order, then a wallet, in another exponent than the tenant's (issue 14 item 1). A refused row
 * is not inserted, as one whose key is taken; the caller tells them apart. On PostgreSQL the
 * method row is locked FOR SHARE: a change in progress (update-method.ts locks the row first)
 * is waited for, and its committed version is checked again (READ COMMITTED re-checks a locked
 * row that changed); a change that starts later waits for this order and then sees it.
 */
const SQLITE_METHOD_GUARD = `exists (
  select 1 from deposit_methods m, json_each(m.currencies) c
  where m.tenant_id = ? and m.id = ? and m.deleted_at is null
    and json_extract(c.value, '$.code') = ? and json_extract(c.value, '$.decimals') = ?)`;
const PG_METHOD_GUARD = `exists (
  select 1 from deposit_methods m
  where m.tenant_id = v.tenant_id and m.id = v.method_id and m.deleted_at is null
    and m.currencies::jsonb @> jsonb_build_array(jsonb_build_object('code', v.currency, 'decimals', v.decimals))
  for share)`;
/** The guard's parameters on SQLite, after the row's values. */
const guardValues = (row: DepositsTable) => [row.tenant_id, row.method_id, row.currency, row.decimals];

/**
 * SQLite: one statement per row, inside the batch's transaction (in-process, prepared once).
 * A WHERE on the SELECT also keeps SQLite from reading ON CONFLICT as a join's constraint.
 */
const INSERT_DEPOSIT = statement(
  `insert into deposits (${DEPOSIT_COLUMNS.join(", ")})
  select ${DEPOSIT_COLUMNS.map(() => "?").join(", ")} where ${SQLITE_METHOD_GUARD} ${ON_KEY_CONFLICT}`,
);
const INSERT_EVENT = statement(`insert into deposit_events (${EVENT_COLUMNS}) values ${EVENT_PLACEHOLDERS}`);

// PostgreSQL: n orders and their `created` events in one statement. An event is written only
// for an order that was inserted (joined to the insert's RETURNING), and the statement returns
// the ids of the orders it inserted.
const PG_INSERT_DEPOSITS = statement(`
  with d as (
    insert into deposits (${DEPOSIT_COLUMNS.join(", ")})
    select * from ${DEPOSITS_UNNEST} as v (${DEPOSIT_COLUMNS.join(", ")})
    where ${PG_METHOD_GUARD}
    ${ON_KEY_CONFLICT} returning id)
  insert into deposit_events (${EVENT_COLUMNS})
  select v.id, v.tenant_id, v.deposit_id, v.kind, v.data, v.created_at
  from ${EVENTS_UNNEST} as v (${EVENT_COLUMNS})
  join d on d.id = v.deposit_id
  returning deposit_id`);

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

// The URL is stored only on an order still open and without one (a cancelled or failed order
// keeps none; a callback that raced ahead keeps its status): as setPaymentUrl in deposit-repo.ts.
const SET_PAYMENT_URL = statement(`
  update deposits set payment_url = ?, updated_at = ?
  where tenant_id = ? and id = ? and status in ('pending', 'processing') and payment_url is null
  returning ${ANSWER_COLUMNS.join(", ")}`);
// PostgreSQL: n events and n URLs in one statement (the events are written either way).
const PG_SET_PAYMENT_URLS = statement(`
  with e as (insert into deposit_events (${EVENT_COLUMNS}) select * from ${EVENTS_UNNEST}),
  v (url, now, tenant_id, id) as (select * from ${unnestOf(["text", "bigint", "text", "text"])})
  update deposits d set payment_url = v.url, updated_at = v.now
  from v
  where d.tenant_id = v.tenant_id and d.id = v.id and d.status in ('pending', 'processing') and d.payment_url is null
  returning ${ANSWER_COLUMNS.map((c) => `d.${c}`).join(", ")}`);

/*
 * Group commit. The two write steps of every deposit creation go through a batcher per
 * database: the steps that arrive while one batch is being written are written together in the
 * next one: ONE transaction on SQLite (a commit writes each touched page once for all of them:
 * under bench B3's load a third of the WAL writes and file locks per deposit), ONE statement on
 * PostgreSQL (one round trip). A lone request waits for nothing but the end of the current I/O
 * phase. Each deposit's own rows stay all or nothing; when a batch fails (a unique violation, a
 * deadlock, a deleted client), it rolls back whole and every item is retried alone, so one bad
 * item never fails another.
 */
const BATCH_MAX = 64;

type InsertItem = { row: DepositsTable; event: NewDepositEvent };
type SetUrlItem = { url: string; now: number; tenantId: string; id: string; event: NewDepositEvent };
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

async function insertDeposits(db: Db, kind: DbKind, items: InsertItem[]): Promise<boolean[]> {
  if (kind === "postgres") {
    const params = [
      ...columnsOf(items.map(({ row }) => DEPOSIT_COLUMNS.map((c) => row[c]))),
      ...columnsOf(items.map(({ event }) => eventValues(event))),
    ];
    const r = await run<{ deposit_id: string }>(db, PG_INSERT_DEPOSITS, params);
    const inserted = new Set(r.rows.map((x) => x.deposit_id));
    return items.map(({ row }) => inserted.has(row.id));
  }
  return writeTransaction(db, async (trx) => {
    const out: boolean[] = [];
    for (const { row, event } of items) {
      const r = await run(trx, INSERT_DEPOSIT, [...DEPOSIT_COLUMNS.map((c) => row[c]), ...guardValues(row)]);
      const inserted = Number(r.numAffectedRows ?? 0n) > 0;
      if (inserted) await run(trx, INSERT_EVENT, eventValues(event));
      out.push(inserted);
    }
    return out;
  });
}

async function setPaymentUrls(
  db: Db,
  kind: DbKind,
  items: SetUrlItem[],
): Promise<(CreatedDepositRow | undefined)[]> {
  if (kind === "postgres") {
    const params = [
      ...columnsOf(items.map(({ event }) => eventValues(event))),
      ...columnsOf(items.map((i) => [i.url, i.now, i.tenantId, i.id])),
    ];
    const r = await run<CreatedDepositRow>(db, PG_SET_PAYMENT_URLS, params);
    const byId = new Map(r.rows.map((x) => [x.id, x]));
    return items.map((i) => byId.get(i.id));
  }
  return writeTransaction(db, async (trx) => {
    const out: (CreatedDepositRow | undefined)[] = [];
    for (const i of items) {
      await run(trx, INSERT_EVENT, eventValues(i.event));
      const r = await run<CreatedDepositRow>(trx, SET_PAYMENT_URL, [i.url, i.now, i.tenantId, i.id]);
      out.push(r.rows[0]);
    }
    return out;
  });
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
    t: { tenantId: string; id: string; url: string; now: number },
    event: NewDepositEvent,
  ): Promise<CreatedDepositRow | undefined>;
};

export function createDepositWriter(db: Db): DepositWriter {
  const kind = dialectOf(db);
  // One writer on SQLite; on PostgreSQL two batches at once at most, as API-2's batches.
  const opts = { maxBatch: BATCH_MAX, concurrency: kind === "postgres" ? 2 : 1 };
  const context = createMicroBatcher(
    aloneOnFailure((keys: ContextKey[]) => findContexts(db, kind, keys)),
    opts,
  );
  const insert = createMicroBatcher(
    aloneOnFailure((items: InsertItem[]) => insertDeposits(db, kind, items)),
    opts,
  );
  const setUrl = createMicroBatcher(
    aloneOnFailure((items: SetUrlItem[]) => setPaymentUrls(db, kind, items)),
    opts,
  );
  return {
    async findContext(key) {
      if (kind === "postgres") return context.submit(key);
      return (await findContexts(db, kind, [key]))[0];
    },
    insert: (row, event) => insert.submit({ row, event }),
    setPaymentUrl: (t, event) => setUrl.submit({ ...t, event }),
  };
}
