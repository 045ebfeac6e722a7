import type { AppContext } from "../../app-context.js";
import type { Role } from "../../infra/db/schema.js";
import { currentSession } from "./login.js";
import { ROLE_PERMISSIONS } from "./permissions.js";

type Ctx = Pick<AppContext, "db" | "sessionReader" | "clock">;
type Tenant = { id: string; name: string; slug: string };
/** The back office's tenant also says whether the platform operator suspended it (the app shows a banner). */
type StaffTenant = Tenant & { suspended: boolean };

export type StaffSession = {
  me: { id: string; email: string; name: string; role: Role; permissions: string[]; tenant: StaffTenant };
  csrfToken: string;
  expiresAt: number;
};
export type ClientSession = {
  me: { id: string; name: string; email: string; tenant: Tenant };
  csrfToken: string;
  expiresAt: number;
};

/**
 * The back-office session behind a cookie with its user, or null when there is none: no live
 * session, a portal one, or a user since disabled (the same users access control refuses).
 */
export async function staffSession(ctx: Ctx, secret: string | undefined): Promise<StaffSession | null> {
  const s = await currentSession(ctx, secret);
  if (s?.kind !== "user") return null;
  const u = await ctx.db
    .selectFrom("users")
    .innerJoin("tenants", "tenants.id", "users.tenant_id")
    .select([
      "users.id",
      "users.email",
      "users.name",
      "users.role",
      "users.disabled",
      "tenants.name as tn",
      "tenants.slug as ts",
      "tenants.suspended_at",
    ])
    .where("users.id", "=", s.subject_id)
    .where("users.tenant_id", "=", s.tenant_id)
    .executeTakeFirst();
  if (!u || u.disabled) return null;
  return {
    me: {
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      permissions: [...ROLE_PERMISSIONS[u.role]],
      tenant: { id: s.tenant_id, name: u.tn, slug: u.ts, suspended: u.suspended_at !== null },
    },
    csrfToken: s.csrf_token,
    expiresAt: s.expires_at,
  };
}

/** The portal session behind a cookie with its client, or null when there is none. */
export async function clientSession(ctx: Ctx, secret: string | undefined): Promise<ClientSession | null> {
  const s = await currentSession(ctx, secret);
  // A suspended tenant's portal has no session (access control answers tenant_suspended).
  if (s?.kind !== "client" || s.tenant_suspended_at !== null) return null;
  const c = await ctx.db
    .selectFrom("clients")
    .innerJoin("tenants", "tenants.id", "clients.tenant_id")
    .select(["clients.id", "clients.name", "clients.email", "tenants.name as tn", "tenants.slug as ts"])
    .where("clients.id", "=", s.subject_id)
    .where("clients.tenant_id", "=", s.tenant_id)
    .executeTakeFirst();
  if (!c) return null;
  return {
    me: { id: c.id, name: c.name, email: c.email, tenant: { id: s.tenant_id, name: c.tn, slug: c.ts } },
    csrfToken: s.csrf_token,
    expiresAt: s.expires_at,
  };
}
