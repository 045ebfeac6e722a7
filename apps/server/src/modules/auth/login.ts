import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { UnauthenticatedError } from "../../common/errors.js";
import { dummyPasswordHash, sha256Hex, verifyPassword } from "../../infra/crypto/hashing.js";
import { hasRowLocks, writeTransaction } from "../../infra/db/database.js";
import { tenantSuspendedError } from "../platform/tenant-suspension.js";
import { upgradePasswordHash } from "./password-upgrade.js";
import { ROLE_PERMISSIONS } from "./permissions.js";
import { createSessionRepo } from "./session-repo.js";

export type IssuedSession = { secret: string; csrfToken: string; expiresAt: number };

async function issueSession(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  kind: "user" | "client",
  subjectId: string,
  tenantId: string,
): Promise<IssuedSession> {
  const now = ctx.clock.now();
  const secret = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const expiresAt = now + ctx.config.sessionTtlMs;
  const repo = createSessionRepo(ctx.db);
  await repo.insert({
    id_hash: sha256Hex(secret),
    kind,
    subject_id: subjectId,
    tenant_id: tenantId,
    csrf_token: csrfToken,
    expires_at: expiresAt,
    created_at: now,
  });
  return { secret, csrfToken, expiresAt };
}

const BAD_LOGIN = "Email or password is wrong";

/**
 * Back-office login. One e-mail may be staff at several tenants (unique per tenant), so the
 * login may name the tenant by its slug, the "company code", as the portal login does. Every
 * login checks exactly one password, so neither the answer nor the scrypt work (one check at
 * N=2^17 each) tells someone without the password at how many tenants the e-mail is staff:
 * - named: that tenant's account (disabled: checked, then refused), else the dummy hash;
 * - not named: the oldest active account of the e-mail (created_at, then id), else the dummy
 *   hash. A match logs in to it; a person whose password is for another of their accounts gets
 *   the 401 of a wrong password, and the login page's hint asks for the company code.
 */
export async function loginStaff(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  input: { email: string; password: string; tenant?: string | undefined },
  deps: { verifyPassword: typeof verifyPassword } = { verifyPassword },
) {
  const slug = input.tenant?.trim().toLowerCase() || null;
  let query = ctx.db
    .selectFrom("users")
    .innerJoin("tenants", "tenants.id", "users.tenant_id")
    .select([
      "users.id",
      "users.tenant_id",
      "users.email",
      "users.name",
      "users.role",
      "users.disabled",
      "users.password_hash",
      "tenants.name as tenant_name",
      "tenants.slug as tenant_slug",
      "tenants.suspended_at as tenant_suspended_at",
    ])
    .where(sql<string>`lower(${sql.ref("users.email")})`, "=", input.email.trim().toLowerCase());
  query = slug
    ? query.where("tenants.slug", "=", slug)
    : query.where("users.disabled", "=", 0).orderBy("users.created_at").orderBy("users.id");
  const account = await query.limit(1).executeTakeFirst();
  const ok = await deps.verifyPassword(input.password, account?.password_hash ?? dummyPasswordHash());
  const user = ok && account && !account.disabled ? account : undefined;
  if (!user) throw new UnauthenticatedError(BAD_LOGIN);
  await upgradePasswordHash(ctx.db, "users", user, input.password);
  const session = await issueSession(ctx, "user", user.id, user.tenant_id);
  return {
    session,
    me: {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      permissions: [...ROLE_PERMISSIONS[user.role]],
      tenant: {
        id: user.tenant_id,
        name: user.tenant_name,
        slug: user.tenant_slug,
        suspended: user.tenant_suspended_at !== null,
      },
    },
  };
}

/** Portal login: a client of one tenant (identified by its slug), by email and password; never a disabled one. */
export async function loginClient(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  input: { tenant: string; email: string; password: string },
  deps: { verifyPassword: typeof verifyPassword } = { verifyPassword },
) {
  const client = await ctx.db
    .selectFrom("clients")
    .innerJoin("tenants", "tenants.id", "clients.tenant_id")
    .select([
      "clients.id",
      "clients.tenant_id",
      "clients.name",
      "clients.email",
      "clients.password_hash",
      "clients.disabled",
      "tenants.name as tenant_name",
      "tenants.slug as tenant_slug",
      "tenants.suspended_at as tenant_suspended_at",
    ])
    .where("tenants.slug", "=", input.tenant.trim().toLowerCase())
    .where("clients.email", "=", input.email.trim().toLowerCase())
    .executeTakeFirst();
  const ok = await deps.verifyPassword(input.password, client?.password_hash ?? dummyPasswordHash());
  // A disabled client gets the answer of a wrong password, after the same work (as staff do).
  if (!client?.password_hash || !ok || client.disabled) throw new UnauthenticatedError(BAD_LOGIN);
  // Said only to someone with the password, so the answer never tells who is a client.
  if (client.tenant_suspended_at !== null) throw tenantSuspendedError();
  const hash = client.password_hash;
  // The check took a while: a disable or password reset committed meanwhile ended the client's
  // sessions, so the session is issued only if the row is still as checked, read under a share
  // lock (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises) that such a change waits for.
  const session = await writeTransaction(ctx.db, async (trx) => {
    let q = trx.selectFrom("clients").select(["disabled", "password_hash"]).where("id", "=", client.id);
    if (hasRowLocks(trx)) q = q.forShare();
    const now = await q.executeTakeFirst();
    if (!now || now.disabled || now.password_hash !== hash) throw new UnauthenticatedError(BAD_LOGIN);
    return issueSession({ ...ctx, db: trx }, "client", client.id, client.tenant_id);
  });
  await upgradePasswordHash(ctx.db, "clients", { ...client, password_hash: hash }, input.password);
  return {
    session,
    me: {
      id: client.id,
      name: client.name,
      email: client.email,
      tenant: { id: client.tenant_id, name: client.tenant_name, slug: client.tenant_slug },
    },
  };
}

export async function logout(ctx: Pick<AppContext, "db">, secret: string | undefined): Promise<void> {
  if (secret) await createSessionRepo(ctx.db).delete(sha256Hex(secret));
}

/** The live session behind a cookie, to hand the SPA its CSRF token again after a reload. */
export async function currentSession(
  ctx: Pick<AppContext, "sessionReader" | "clock">,
  secret: string | undefined,
) {
  if (!secret) return undefined;
  return ctx.sessionReader.findLive(sha256Hex(secret), ctx.clock.now());
}
