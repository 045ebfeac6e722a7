import { formatAmount, MAX_EXPONENT } from "@psphub/protocol";
import { type Expression, type SelectQueryBuilder, sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { type Db, decodeJson } from "../../infra/db/database.js";
import {
  applySort,
  foldedTextKey,
  keysetBatches,
  keysetOf,
  type Sort,
  type SortSpec,
  textKey,
} from "../../infra/db/list-order.js";
import type { Database, DepositStatus, DepositsTable } from "../../infra/db/schema.js";
import type { CALLBACK_LOG_SOURCES } from "../callbacks/callback-log-repo.js";
import { depositFields } from "../deposit-methods/method-model.js";
import type { CustomParam, CustomParamType } from "../psp-integrations/integration-model.js";
import { depositWebhooks } from "../webhooks/delivery-log.js";
import type { DepositWebhookView } from "../webhooks/endpoint-schemas.js";
import {
  type DepositRow,
  findClient,
  findDepositByOrderNo,
  listDepositEvents,
  listMethodsWithIntegrations,
  type StoredDepositEvent,
} from "./deposit-repo.js";
import { methodAvailability } from "./deposit-validation.js";
import {
  type AdminDepositView,
  adminDepositView,
  isUnderReview,
  money,
  type OpenReviewClaim,
  type PortalDepositView,
  portalDepositView,
} from "./deposit-view.js";
import { type EnteredField, enteredFields } from "./entered-fields.js";

/** Read side of deposits for the portal and the back office. Every query is tenant-scoped. */

type Ctx = Pick<AppContext, "db">;
type PortalCtx = Pick<AppContext, "db" | "clock" | "api1Breakers">;

export type PortalMethodView = {
  id: string;
  name: string;
  currencies: {
    code: string;
    decimals: number;
    min: string;
    max: string;
    /** Percent as decimal text ("2.50" for 2.5 %). */
    feePercent: string;
    feeFixed: string;
    /** null: no cap. */
    feeMax: string | null;
    /** The wallet currency it credits; null: itself. */
    accountCurrency: string | null;
  }[];
  fields: { key: string; label: string; type: CustomParamType; required: boolean; options: string[] }[];
  /** Its integration's API-1 breaker is open: shown greyed, refused with `method_temporarily_unavailable`. */
  temporarilyUnavailable: boolean;
  /** Offered instead while unavailable: a method of this list that is available; else null. */
  fallbackMethodId: string | null;
};

/**
 * The methods a client may use now: visible to its group, enabled, integration enabled, in
 * display order; those whose integration's API-1 breaker is open marked unavailable, with
 * their fallback when it is available.
 */
export async function listPortalMethods(
  ctx: PortalCtx,
  actor: { tenantId: string; clientId: string },
): Promise<PortalMethodView[]> {
  const client = await findClient(ctx.db, actor.tenantId, actor.clientId);
  if (!client) throw new NotFoundError("Client");
  const all = await listMethodsWithIntegrations(ctx.db, actor.tenantId);
  const usable = all.filter((m) => methodAvailability(m, client.client_group) === "ok");
  const now = ctx.clock.now();
  const refusing = new Map<string, boolean>();
  for (const { integration } of usable) {
    if (refusing.has(integration.id)) continue;
    const target = {
      integrationId: integration.id,
      tenantId: actor.tenantId,
      timeoutMs: integration.api1TimeoutMs,
    };
    refusing.set(integration.id, await ctx.api1Breakers.refusing(target, now));
  }
  const available = new Set(usable.filter((m) => !refusing.get(m.integration.id)).map((m) => m.method.id));
  return usable.map(({ method, integration }) => {
    const unavailable = refusing.get(integration.id) === true;
    const fallback = method.fallbackMethodId;
    return {
      id: method.id,
      name: method.name,
      currencies: method.currencies.map((c) => ({
        code: c.code,
        decimals: c.decimals,
        min: formatAmount(c.minMinor, c.decimals),
        max: formatAmount(c.maxMinor, c.decimals),
        feePercent: formatAmount(BigInt(c.feePercentBps), 2),
        feeFixed: formatAmount(c.feeFixedMinor, c.decimals),
        feeMax: c.feeMaxMinor === null ? null : formatAmount(c.feeMaxMinor, c.decimals),
        accountCurrency: c.conversion?.account ?? null,
      })),
      fields: depositFields(method, integration).map((f) => ({
        key: f.key,
        label: f.label,
        type: f.type,
        required: f.required,
        options: f.type === "select" ? (f.options ?? []) : [],
      })),
      temporarilyUnavailable: unavailable,
      fallbackMethodId: unavailable && fallback !== null && available.has(fallback) ? fallback : null,
    };
  });
}

async function methodName(db: Db, tenantId: string, methodId: string): Promise<string> {
  const m = await db
    .selectFrom("deposit_methods")
    .select("name")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", methodId)
    .executeTakeFirst();
  return m?.name ?? "";
}

/** The open review items' claims of these deposits (one tenant's), by deposit id. */
async function openReviewClaims(
  db: Db,
  tenantId: string,
  depositIds: readonly string[],
): Promise<Map<string, OpenReviewClaim[]>> {
  const byDeposit = new Map<string, OpenReviewClaim[]>();
  if (depositIds.length === 0) return byDeposit;
  const rows = await db
    .selectFrom("review_items")
    .select(["deposit_id", "data"])
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open")
    .where("deposit_id", "in", depositIds)
    .execute();
  for (const r of rows) {
    const claim = decodeJson<Partial<OpenReviewClaim>>(r.data, {});
    const list = byDeposit.get(r.deposit_id) ?? [];
    list.push({ status: Number(claim.status) });
    byDeposit.set(r.deposit_id, list);
  }
  return byDeposit;
}

/** Whether a payment reported for this deposit is being checked (see `isUnderReview`). */
export async function depositUnderReview(db: Db, tenantId: string, depositId: string): Promise<boolean> {
  return isUnderReview((await openReviewClaims(db, tenantId, [depositId])).get(depositId) ?? []);
}

export async function portalViewOf(db: Db, row: DepositRow): Promise<PortalDepositView> {
  return portalDepositView(
    row,
    await methodName(db, row.tenant_id, row.method_id),
    await depositUnderReview(db, row.tenant_id, row.id),
  );
}

/** One of the client's own orders; another client's or tenant's is "not found". */
export async function getClientDeposit(
  ctx: Ctx,
  actor: { tenantId: string; clientId: string },
  orderNo: string,
): Promise<PortalDepositView> {
  const row = await findDepositByOrderNo(ctx.db, actor.tenantId, orderNo, actor.clientId);
  if (!row) throw new NotFoundError("Deposit");
  return portalViewOf(ctx.db, row);
}

export type Page = { limit: number; offset: number };

/** The client's own deposit history, newest first. */
export async function listClientDeposits(
  ctx: Ctx,
  actor: { tenantId: string; clientId: string },
  page: Page,
): Promise<{ items: PortalDepositView[]; total: number }> {
  const base = ctx.db
    .selectFrom("deposits as d")
    .where("d.tenant_id", "=", actor.tenantId)
    .where("d.client_id", "=", actor.clientId);
  const rows = await base
    .leftJoin("deposit_methods as m", (j) =>
      j.onRef("m.id", "=", "d.method_id").onRef("m.tenant_id", "=", "d.tenant_id"),
    )
    .selectAll("d")
    .select("m.name as method_name")
    .orderBy("d.created_at", "desc")
    .orderBy("d.id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const count = await base.select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirst();
  const reviews = await openReviewClaims(
    ctx.db,
    actor.tenantId,
    rows.map((r) => r.id),
  );
  return {
    items: rows.map(({ method_name, ...row }) =>
      portalDepositView(row, method_name ?? "", isUnderReview(reviews.get(row.id) ?? [])),
    ),
    total: Number(count?.n ?? 0),
  };
}

export type AdminDepositFilters = {
  status?: DepositStatus;
  clientId?: string;
  methodId?: string;
  integrationId?: string;
  currency?: string;
  orderNo?: string;
  /** created_at ≥ from (epoch ms) */
  from?: number;
  /** created_at < to (epoch ms) */
  to?: number;
};

/** Deposit rows with the names of their client, method and integration (same tenant only). */
function withNames(q: SelectQueryBuilder<Database & { d: DepositsTable }, "d", object>) {
  return q
    .leftJoin("clients as c", (j) =>
      j.onRef("c.id", "=", "d.client_id").onRef("c.tenant_id", "=", "d.tenant_id"),
    )
    .leftJoin("deposit_methods as m", (j) =>
      j.onRef("m.id", "=", "d.method_id").onRef("m.tenant_id", "=", "d.tenant_id"),
    )
    .leftJoin("psp_integrations as i", (j) =>
      j.onRef("i.id", "=", "d.integration_id").onRef("i.tenant_id", "=", "d.tenant_id"),
    )
    .selectAll("d")
    .select(["c.name as client_name", "m.name as method_name", "i.name as integration_name"]);
}

/** The deposit list's sortable columns (`sort=column:dir`). */
export const DEPOSIT_SORT_COLUMNS = [
  "created_at",
  "order_no",
  "client_name",
  "method_name",
  "amount",
  "status",
] as const;
export type DepositSortColumn = (typeof DEPOSIT_SORT_COLUMNS)[number];

/** `power(d)` for each exponent d a currency may have (0..8), as SQL on the decimals column. */
const byDecimals = (decimals: Expression<unknown>, power: (d: number) => number) =>
  sql`case ${decimals} ${sql.join(
    Array.from(
      { length: MAX_EXPONENT + 1 },
      (_, d) => sql`when ${sql.lit(d)} then ${sql.lit(10 ** power(d))}`,
    ),
    sql` `,
  )} end`;

const depositSort: SortSpec<DepositSortColumn> = {
  id: "d.id",
  keys: (db) => ({
    created_at: [sql.ref("d.created_at")],
    order_no: [textKey(db, sql.ref("d.order_no"))],
    client_name: [foldedTextKey(db, sql.ref("c.name"))],
    method_name: [foldedTextKey(db, sql.ref("m.name"))],
    // The amount's value across exponents, exactly: whole units, then the fraction in 10^-8
    // units (both integers; amount_minor is a positive safe integer), never a float.
    amount: [
      sql`${sql.ref("d.amount_minor")} / ${byDecimals(sql.ref("d.decimals"), (d) => d)}`,
      sql`(${sql.ref("d.amount_minor")} % ${byDecimals(sql.ref("d.decimals"), (d) => d)}) * ${byDecimals(
        sql.ref("d.decimals"),
        (d) => MAX_EXPONENT - d,
      )}`,
    ],
    status: [textKey(db, sql.ref("d.status"))],
  }),
};

/** The tenant's deposits matching the filters (the list's and the export's query). */
function filteredDeposits(db: Db, tenantId: string, filters: AdminDepositFilters) {
  let base = db.selectFrom("deposits as d").where("d.tenant_id", "=", tenantId);
  if (filters.status) base = base.where("d.status", "=", filters.status);
  if (filters.clientId) base = base.where("d.client_id", "=", filters.clientId);
  if (filters.methodId) base = base.where("d.method_id", "=", filters.methodId);
  if (filters.integrationId) base = base.where("d.integration_id", "=", filters.integrationId);
  if (filters.currency) base = base.where("d.currency", "=", filters.currency);
  if (filters.orderNo) base = base.where("d.order_no", "=", filters.orderNo);
  if (filters.from !== undefined) base = base.where("d.created_at", ">=", filters.from);
  if (filters.to !== undefined) base = base.where("d.created_at", "<", filters.to);
  return base;
}

type NamedDepositRow = DepositRow & {
  client_name: string | null;
  method_name: string | null;
  integration_name: string | null;
};

const toAdminView = ({ client_name, method_name, integration_name, ...row }: NamedDepositRow) =>
  adminDepositView(row, {
    clientName: client_name,
    methodName: method_name,
    integrationName: integration_name,
  });

/** The tenant's deposits, filtered, in the sort's order over the whole list, with the total for paging. */
export async function listAdminDeposits(
  ctx: Ctx,
  tenantId: string,
  filters: AdminDepositFilters,
  page: Page,
  sort: Sort<DepositSortColumn> = { column: "created_at", dir: "desc" },
): Promise<{ items: AdminDepositView[]; total: number }> {
  const base = filteredDeposits(ctx.db, tenantId, filters);
  const rows = await applySort(ctx.db, withNames(base), depositSort, sort)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const count = await base.select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirst();
  return { items: rows.map(toAdminView), total: Number(count?.n ?? 0) };
}

/** Every deposit of the list, in its order, one keyset page at a time (the CSV export). */
export function adminDepositBatches(
  ctx: Ctx,
  tenantId: string,
  filters: AdminDepositFilters,
  sort: Sort<DepositSortColumn>,
  batchSize?: number,
): AsyncGenerator<AdminDepositView[]> {
  const keyCount = depositSort.keys(ctx.db)[sort.column].length;
  return keysetBatches(async (after, limit) => {
    const rows = await applySort(
      ctx.db,
      withNames(filteredDeposits(ctx.db, tenantId, filters)),
      depositSort,
      sort,
      after,
    )
      .limit(limit)
      .execute();
    const last = rows.at(-1);
    return {
      rows: rows.map(toAdminView),
      last: last && keysetOf(last as Record<string, unknown>, keyCount, last.id),
    };
  }, batchSize);
}

export type AdminDepositDetail = AdminDepositView & {
  /** `fields` labelled as people read them: the method's label, else the integration's, else the key. */
  enteredFields: EnteredField[];
  timeline: StoredDepositEvent[];
  ledgerEntry: {
    id: string;
    walletId: string;
    amount: string;
    kind: string;
    memo: string | null;
    createdAt: number;
  } | null;
  callbacks: {
    id: string;
    verdict: string;
    errorType: string | null;
    httpStatus: number;
    createdAt: number;
    rawBody: string;
    source: (typeof CALLBACK_LOG_SOURCES)[number];
  }[];
  webhooks: DepositWebhookView[];
};

/** One deposit with its timeline, its ledger credit (if any) and every callback logged for it. */
export async function getAdminDeposit(ctx: Ctx, tenantId: string, id: string): Promise<AdminDepositDetail> {
  const found = await withNames(
    ctx.db.selectFrom("deposits as d").where("d.tenant_id", "=", tenantId).where("d.id", "=", id),
  ).executeTakeFirst();
  if (!found) throw new NotFoundError("Deposit");
  const { client_name, method_name, integration_name, ...row } = found;
  const labels = await fieldLabelsOf(ctx.db, tenantId, row.method_id, row.integration_id);
  const timeline = await listDepositEvents(ctx.db, tenantId, row.id);
  const entry = await ctx.db
    .selectFrom("ledger_entries")
    .select(["id", "wallet_id", "amount_minor", "kind", "memo", "created_at"])
    .where("tenant_id", "=", tenantId)
    .where("deposit_id", "=", row.id)
    .where("kind", "=", "deposit")
    .executeTakeFirst();
  const callbacks = await ctx.db
    .selectFrom("callback_logs")
    .select(["id", "verdict", "error_type", "http_status", "created_at", "raw_body", "source"])
    .where("tenant_id", "=", tenantId)
    .where((eb) =>
      eb.or([
        eb("deposit_id", "=", row.id),
        eb.and([eb("order_no", "=", row.order_no), eb("integration_id", "=", row.integration_id)]),
      ]),
    )
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
  return {
    ...adminDepositView(row, {
      clientName: client_name,
      methodName: method_name,
      integrationName: integration_name,
    }),
    enteredFields: enteredFields(
      decodeJson<Record<string, string>>(row.fields, {}),
      labels.fieldLabels,
      labels.customParams,
    ),
    timeline,
    ledgerEntry: entry
      ? {
          id: entry.id,
          walletId: entry.wallet_id,
          amount: money(entry.amount_minor, row.decimals),
          kind: entry.kind,
          memo: entry.memo,
          createdAt: entry.created_at,
        }
      : null,
    callbacks: callbacks.map((c) => ({
      id: c.id,
      verdict: c.verdict,
      errorType: c.error_type,
      httpStatus: c.http_status,
      createdAt: c.created_at,
      rawBody: c.raw_body,
      source: c.source ?? "callback",
    })),
    webhooks: await depositWebhooks(ctx.db, tenantId, row.id),
  };
}

/** The labels of a deposit's fields today: its method's (even if deleted since) and its integration's. */
async function fieldLabelsOf(db: Db, tenantId: string, methodId: string, integrationId: string) {
  const m = await db
    .selectFrom("deposit_methods")
    .select("field_labels")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", methodId)
    .executeTakeFirst();
  const i = await db
    .selectFrom("psp_integrations")
    .select("custom_params")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", integrationId)
    .executeTakeFirst();
  return {
    fieldLabels: decodeJson<Record<string, string>>(m?.field_labels ?? null, {}),
    customParams: decodeJson<CustomParam[]>(i?.custom_params ?? null, []),
  };
}
