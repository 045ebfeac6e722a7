import { type SelectQueryBuilder, sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { decodeJson } from "../../infra/db/database.js";
import type { CallbackLogsTable, DepositStatus } from "../../infra/db/schema.js";
import { readBreaker, stateOf } from "../api1-breaker/breaker-repo.js";
import { healthOf } from "../integration-health/health-figures.js";

/**
 * What the operator's console reads. Aggregates and operational rows only: no query here
 * selects a client's name, e-mail or phone, or any token (docs/security.md, "The platform
 * operator"); `platform-console.db.test.ts` checks the answers.
 */
type Ctx = Pick<AppContext, "db" | "clock">;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const n = (v: string | number | bigint | null | undefined): number => Number(v ?? 0);

export type TenantSummary = {
  id: string;
  slug: string;
  name: string;
  createdAt: number;
  suspendedAt: number | null;
  suspensionReason: string | null;
  integrations: number;
  integrationsEnabled: number;
  /** Deposits created since 00:00 UTC today. */
  depositsToday: number;
};

/** Every tenant with its counts, oldest first (a platform has tens of tenants, not thousands). */
export async function listTenants(ctx: Ctx): Promise<TenantSummary[]> {
  const now = ctx.clock.now();
  const today = now - (now % DAY_MS);
  const rows = await ctx.db
    .selectFrom("tenants as t")
    .select((eb) => [
      "t.id",
      "t.slug",
      "t.name",
      "t.created_at",
      "t.suspended_at",
      "t.suspension_reason",
      eb
        .selectFrom("psp_integrations as i")
        .select(eb.fn.countAll<string | number>().as("c"))
        .whereRef("i.tenant_id", "=", "t.id")
        .as("integrations"),
      eb
        .selectFrom("psp_integrations as i")
        .select(eb.fn.countAll<string | number>().as("c"))
        .whereRef("i.tenant_id", "=", "t.id")
        .where("i.enabled", "=", 1)
        .as("integrations_enabled"),
      // deposits_tenant_created (tenant_id, created_at) answers this from the index.
      eb
        .selectFrom("deposits as d")
        .select(eb.fn.countAll<string | number>().as("c"))
        .whereRef("d.tenant_id", "=", "t.id")
        .where("d.created_at", ">=", today)
        .as("deposits_today"),
    ])
    .orderBy("t.created_at")
    .orderBy("t.id")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    slug: r.slug,
    name: r.name,
    createdAt: r.created_at,
    suspendedAt: r.suspended_at,
    suspensionReason: r.suspension_reason,
    integrations: n(r.integrations),
    integrationsEnabled: n(r.integrations_enabled),
    depositsToday: n(r.deposits_today),
  }));
}

type Window = {
  deposits: Partial<Record<DepositStatus, number>>;
  callbacks: Partial<Record<CallbackLogsTable["verdict"], number>>;
};

export type TenantHealth = {
  tenant: { id: string; slug: string; name: string; suspendedAt: number | null };
  integrations: { id: string; name: string; enabled: boolean }[];
  lastHour: Window;
  last24h: Window;
  openReviewItems: number;
  /** Per integration, the last hour's API-1 figures (modules/integration-health), breaker, alerts. */
  integrationHealth: IntegrationHealthTile[];
};

export type IntegrationHealthTile = {
  integrationId: string;
  breaker: "closed" | "open" | "half_open";
  api1Calls: number;
  /** null without calls */
  api1SuccessRate: number | null;
  api1P95Ms: number | null;
  callbacks: number;
  signatureFailures: number;
  openAlerts: number;
};

/** The health tiles of a tenant's integrations: figures only, no names of people, no tokens. */
async function integrationHealthTiles(
  ctx: Ctx,
  tenantId: string,
  ids: string[],
): Promise<IntegrationHealthTile[]> {
  if (ids.length === 0) return [];
  const figures = await healthOf(ctx.db, tenantId, ctx.clock.now());
  const alerts = await ctx.db
    .selectFrom("alerts")
    .select((eb) => ["integration_id", eb.fn.countAll<string | number>().as("c")])
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open")
    .groupBy("integration_id")
    .execute();
  const openAlerts = new Map(alerts.map((a) => [a.integration_id, n(a.c)]));
  const tiles: IntegrationHealthTile[] = [];
  for (const id of ids) {
    const hour = figures(id).windows["1h"];
    const cb = hour.callbacks;
    tiles.push({
      integrationId: id,
      breaker: stateOf(await readBreaker(ctx.db, id)).state,
      api1Calls: hour.api1.calls,
      api1SuccessRate: hour.api1.successRate,
      api1P95Ms: hour.api1.latencyMs.ok.p95,
      callbacks: cb.accepted + cb.duplicate + cb.rejected + cb.review,
      signatureFailures: hour.signatureFailures,
      openAlerts: openAlerts.get(id) ?? 0,
    });
  }
  return tiles;
}

/** A tenant's tiles: what can be counted from its own rows over the last hour and day. */
export async function tenantHealth(ctx: Ctx, tenantId: string): Promise<TenantHealth> {
  const tenant = await ctx.db
    .selectFrom("tenants")
    .select(["id", "slug", "name", "suspended_at"])
    .where("id", "=", tenantId)
    .executeTakeFirst();
  if (!tenant) throw new NotFoundError("Company");
  const now = ctx.clock.now();
  const integrations = await ctx.db
    .selectFrom("psp_integrations")
    .select(["id", "name", "enabled"])
    .where("tenant_id", "=", tenantId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const since = now - DAY_MS;
  const hourAgo = now - HOUR_MS;
  const lastHourCase = sql<number>`case when created_at >= ${hourAgo} then 1 else 0 end`;
  const deposits = await ctx.db
    .selectFrom("deposits")
    .select((eb) => [
      "status",
      eb.fn.countAll<string | number>().as("day"),
      eb.fn.sum<string | number>(lastHourCase).as("hour"),
    ])
    .where("tenant_id", "=", tenantId)
    .where("created_at", ">=", since)
    .groupBy("status")
    .execute();
  // By integration (callback_logs_integration: integration_id, created_at): the tenant's own rows.
  const callbacks = integrations.length
    ? await ctx.db
        .selectFrom("callback_logs")
        .select((eb) => [
          "verdict",
          eb.fn.sum<string | number>(sql`coalesce(request_count, 1)`).as("day"),
          eb.fn
            .sum<string | number>(
              sql`case when created_at >= ${hourAgo} then coalesce(request_count, 1) else 0 end`,
            )
            .as("hour"),
        ])
        .where(
          "integration_id",
          "in",
          integrations.map((i) => i.id),
        )
        .where("tenant_id", "=", tenantId)
        .where("created_at", ">=", since)
        .groupBy("verdict")
        .execute()
    : [];
  const open = await ctx.db
    .selectFrom("review_items")
    .select((eb) => eb.fn.countAll<string | number>().as("c"))
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open")
    .executeTakeFirstOrThrow();
  const lastHour: Window = { deposits: {}, callbacks: {} };
  const last24h: Window = { deposits: {}, callbacks: {} };
  for (const d of deposits) {
    last24h.deposits[d.status] = n(d.day);
    lastHour.deposits[d.status] = n(d.hour);
  }
  for (const c of callbacks) {
    last24h.callbacks[c.verdict] = n(c.day);
    lastHour.callbacks[c.verdict] = n(c.hour);
  }
  return {
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, suspendedAt: tenant.suspended_at },
    integrations: integrations.map((i) => ({ id: i.id, name: i.name, enabled: i.enabled === 1 })),
    lastHour,
    last24h,
    openReviewItems: n(open.c),
    integrationHealth: await integrationHealthTiles(
      ctx,
      tenantId,
      integrations.map((i) => i.id),
    ),
  };
}

/**
 * One page of a list, newest first (then by id, so the order is total and offset pages never
 * repeat or skip a row), and the list's total.
 */
async function newestFirstPage<DB, TB extends keyof DB, O>(
  base: SelectQueryBuilder<DB, TB, object>,
  select: (q: SelectQueryBuilder<DB, TB, object>) => SelectQueryBuilder<DB, TB, O>,
  keys: { created: string; id: string },
  page: { limit: number; offset: number },
): Promise<{ rows: O[]; total: number }> {
  const rows = await select(base)
    .orderBy(sql`${sql.ref(keys.created)} desc, ${sql.ref(keys.id)} desc`)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await base.select(sql<string | number>`count(*)`.as("c")).executeTakeFirstOrThrow();
  return { rows, total: n((total as { c: string | number }).c) };
}

export type UnroutedCallback = {
  id: string;
  merchantId: string | null;
  orderNo: string | null;
  contentType: string | null;
  /** The body as stored: already cut to the log's cap; the header with the token is never stored. */
  body: string;
  verdict: CallbackLogsTable["verdict"];
  errorType: string | null;
  /** Why it was refused, as the answer said (callbacks/callback-detail.ts). */
  errorDetail: string | null;
  httpStatus: number;
  remoteAddr: string | null;
  requestCount: number;
  createdAt: number;
};

/** Callback log rows no tenant could be found for (unknown merchant_id, unreadable body), newest first. */
export async function listUnroutedCallbacks(
  ctx: Pick<AppContext, "db">,
  page: { limit: number; offset: number },
): Promise<{ items: UnroutedCallback[]; total: number }> {
  const { rows, total } = await newestFirstPage(
    ctx.db.selectFrom("callback_logs").where("tenant_id", "is", null),
    (q) =>
      q.select([
        "id",
        "merchant_id",
        "order_no",
        "content_type",
        "raw_body",
        "verdict",
        "error_type",
        "error_detail",
        "http_status",
        "remote_addr",
        "request_count",
        "created_at",
      ]),
    { created: "created_at", id: "id" },
    page,
  );
  return {
    items: rows.map((r) => ({
      id: r.id,
      merchantId: r.merchant_id,
      orderNo: r.order_no,
      contentType: r.content_type,
      body: r.raw_body,
      verdict: r.verdict,
      errorType: r.error_type,
      errorDetail: r.error_detail ?? null,
      httpStatus: r.http_status,
      remoteAddr: r.remote_addr,
      requestCount: n(r.request_count ?? 1),
      createdAt: r.created_at,
    })),
    total,
  };
}

/** The unrouted callbacks of one source address in a window. */
export type UnroutedSource = {
  remoteAddr: string | null;
  /** Requests, throttled ones included (a summary row stands for many). */
  requests: number;
  /** The error types seen, most frequent first. */
  errorTypes: string[];
  lastAt: number;
};

/** Most sources {@link unroutedBySource} lists. */
export const UNROUTED_SOURCES_MAX = 50;

/**
 * Unrouted callbacks of the last `windowMs`, counted per source address, the busiest first: who
 * is sending callbacks no tenant can be found for (a misconfigured backend, or a prober).
 */
export async function unroutedBySource(
  ctx: Pick<AppContext, "db" | "clock">,
  windowMs: number,
): Promise<{ since: number; sources: UnroutedSource[] }> {
  const since = ctx.clock.now() - windowMs;
  const rows = await ctx.db
    .selectFrom("callback_logs")
    .where("tenant_id", "is", null)
    .where("created_at", ">=", since)
    .select((eb) => [
      "remote_addr",
      "error_type",
      eb.fn.sum<number | string>("request_count").as("requests"),
      eb.fn.max<number | string>("created_at").as("last_at"),
    ])
    .groupBy(["remote_addr", "error_type"])
    .execute();
  const bySource = new Map<string, UnroutedSource & { byType: Map<string, number> }>();
  for (const r of rows) {
    const key = r.remote_addr ?? "";
    const s = bySource.get(key) ?? {
      remoteAddr: r.remote_addr,
      requests: 0,
      errorTypes: [],
      lastAt: 0,
      byType: new Map<string, number>(),
    };
    s.requests += n(r.requests);
    s.lastAt = Math.max(s.lastAt, n(r.last_at));
    if (r.error_type) s.byType.set(r.error_type, (s.byType.get(r.error_type) ?? 0) + n(r.requests));
    bySource.set(key, s);
  }
  const sources = [...bySource.values()]
    .sort((a, b) => b.requests - a.requests || b.lastAt - a.lastAt)
    .slice(0, UNROUTED_SOURCES_MAX)
    .map(({ byType, ...s }) => ({
      ...s,
      errorTypes: [...byType.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => t),
    }));
  return { since, sources };
}

export type OperatorAuditRecord = {
  id: string;
  tenant: { id: string; slug: string | null; name: string | null };
  operator: { id: string | null; name: string | null };
  action: string;
  before: unknown;
  after: unknown;
  ip: string | null;
  createdAt: number;
};

/** What operators did, across tenants, newest first. */
export async function listOperatorAudit(
  ctx: Pick<AppContext, "db">,
  page: { limit: number; offset: number },
): Promise<{ items: OperatorAuditRecord[]; total: number }> {
  const { rows, total } = await newestFirstPage(
    ctx.db
      .selectFrom("audit_log as a")
      .leftJoin("tenants as t", "t.id", "a.tenant_id")
      .leftJoin("platform_operators as o", "o.id", "a.actor_id")
      .where("a.actor_type", "=", "operator"),
    (q) =>
      q.select([
        "a.id",
        "a.tenant_id",
        "t.slug",
        "t.name as tenant_name",
        "a.actor_id",
        "o.name as operator_name",
        "a.action",
        "a.before",
        "a.after",
        "a.ip",
        "a.created_at",
      ]),
    { created: "a.created_at", id: "a.id" },
    page,
  );
  return {
    items: rows.map((r) => ({
      id: r.id,
      tenant: { id: r.tenant_id, slug: r.slug, name: r.tenant_name },
      operator: { id: r.actor_id, name: r.operator_name },
      action: r.action,
      before: decodeJson<unknown>(r.before, null),
      after: decodeJson<unknown>(r.after, null),
      ip: r.ip,
      createdAt: r.created_at,
    })),
    total,
  };
}
