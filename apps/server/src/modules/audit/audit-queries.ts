import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { decodeJson } from "../../infra/db/database.js";
import { applySort, type Sort, type SortSpec, textKey } from "../../infra/db/list-order.js";
import type { AuditLogTable } from "../../infra/db/schema.js";

/** The audit log's sortable columns (`sort=column:dir`). */
export const AUDIT_SORT_COLUMNS = ["created_at", "action", "target_type"] as const;
type AuditSortColumn = (typeof AUDIT_SORT_COLUMNS)[number];

const auditSort: SortSpec<AuditSortColumn> = {
  id: "id",
  keys: (db) => ({
    created_at: [sql.ref("created_at")],
    action: [textKey(db, sql.ref("action"))],
    target_type: [textKey(db, sql.ref("target_type"))],
  }),
};

export type AuditFilter = {
  sort?: Sort<AuditSortColumn>;
  action?: string;
  targetType?: string;
  targetId?: string;
  actorId?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  limit: number;
  offset: number;
};

export type AuditRecord = {
  id: string;
  actorType: AuditLogTable["actor_type"];
  actorId: string | null;
  /** Who that was, readable: the user's or client's name and email, or the API key's name. */
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  createdAt: number;
};

/** The tenant's audit records in the sort's order (newest first by default), with before/after decoded from their JSON text. */
export async function listAudit(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  f: AuditFilter,
): Promise<{ items: AuditRecord[]; total: number }> {
  let q = ctx.db.selectFrom("audit_log").where("tenant_id", "=", tenantId);
  if (f.action !== undefined) q = q.where("action", "=", f.action);
  if (f.targetType !== undefined) q = q.where("target_type", "=", f.targetType);
  if (f.targetId !== undefined) q = q.where("target_id", "=", f.targetId);
  if (f.actorId !== undefined) q = q.where("actor_id", "=", f.actorId);
  if (f.from !== undefined) q = q.where("created_at", ">=", f.from);
  if (f.to !== undefined) q = q.where("created_at", "<=", f.to);
  const rows = await applySort(
    ctx.db,
    q.selectAll(),
    auditSort,
    f.sort ?? { column: "created_at", dir: "desc" },
  )
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const count = await q.select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirstOrThrow();
  const names = await actorNames(ctx, tenantId, rows);
  return {
    items: rows.map((r) => ({
      id: r.id,
      actorType: r.actor_type,
      actorId: r.actor_id,
      actorName: (r.actor_id && names.get(`${r.actor_type}:${r.actor_id}`)) || null,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      before: decodeJson<unknown>(r.before, null),
      after: decodeJson<unknown>(r.after, null),
      ip: r.ip,
      createdAt: r.created_at,
    })),
    total: Number(count.n),
  };
}

/** Readable names of the page's actors, looked up in the same tenant only. */
async function actorNames(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  rows: { actor_type: string; actor_id: string | null }[],
): Promise<Map<string, string>> {
  const ids = (type: string) => [
    ...new Set(rows.filter((r) => r.actor_type === type && r.actor_id).map((r) => r.actor_id as string)),
  ];
  const names = new Map<string, string>();
  const users = ids("user");
  if (users.length) {
    const found = await ctx.db
      .selectFrom("users")
      .select(["id", "name", "email"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", users)
      .execute();
    for (const u of found) names.set(`user:${u.id}`, `${u.name} <${u.email}>`);
  }
  const keys = ids("api_key");
  if (keys.length) {
    const found = await ctx.db
      .selectFrom("api_keys")
      .select(["id", "name"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", keys)
      .execute();
    for (const k of found) names.set(`api_key:${k.id}`, `API key "${k.name}"`);
  }
  const clients = ids("client");
  if (clients.length) {
    const found = await ctx.db
      .selectFrom("clients")
      .select(["id", "name", "email"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", clients)
      .execute();
    for (const c of found) names.set(`client:${c.id}`, `${c.name} <${c.email}>`);
  }
  return names;
}
