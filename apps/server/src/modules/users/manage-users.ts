import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { fromBool, toBool, writeTransaction } from "../../infra/db/database.js";
import type { Role, UsersTable } from "../../infra/db/schema.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { createSessionRepo } from "../auth/session-repo.js";
import { createUser, type createUserInput } from "../tenants/create-tenant.js";
import { createUserRepo } from "./user-repo.js";

/** A back-office user as the user admin sees it. Never carries the password hash. */
export type User = {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
};

const toUser = (u: UsersTable): User => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  disabled: toBool(u.disabled),
  createdAt: u.created_at,
});

const auditView = (u: User) => ({ email: u.email, name: u.name, role: u.role, disabled: u.disabled });

export const roleSchema = z.enum(["owner", "admin", "finance", "viewer"]);

export async function listUsers(ctx: Pick<AppContext, "db">, tenantId: string): Promise<User[]> {
  return (await createUserRepo(ctx.db).list(tenantId)).map(toUser);
}

/** Creates a user (see createUser of the tenants module) and answers it as the list shows it. */
export async function addUser(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  input: z.input<typeof createUserInput>,
  actor: AuditActor & { type: "user" | "api_key" | "system" },
  ip: string | null = null,
): Promise<User> {
  const { id } = await createUser(ctx, tenantId, input, actor, ip);
  const row = await createUserRepo(ctx.db).find(tenantId, id);
  if (!row) throw new NotFoundError("User");
  return toUser(row);
}

export const updateUserInput = z.object({
  name: z.string().trim().min(1).max(120).optional(),
  role: roleSchema.optional(),
  disabled: z.boolean().optional(),
});

/**
 * Changes a user's name, role or disabled flag. The tenant's last active owner can be neither
 * demoted nor disabled (409 `last_owner`), so a tenant never locks itself out of user
 * management. Disabling a user ends its sessions at once.
 */
export async function updateUser(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  userId: string,
  input: z.input<typeof updateUserInput>,
  actor: AuditActor,
  ip: string | null = null,
): Promise<User> {
  const data = parseInput(updateUserInput, input);
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createUserRepo(trx);
    await repo.lockTenant(tenantId);
    const row = await repo.find(tenantId, userId);
    if (!row) throw new NotFoundError("User");
    const before = toUser(row);
    const after: User = {
      ...before,
      name: data.name ?? before.name,
      role: data.role ?? before.role,
      disabled: data.disabled ?? before.disabled,
    };
    if (after.name === before.name && after.role === before.role && after.disabled === before.disabled) {
      return before;
    }
    const wasActiveOwner = before.role === "owner" && !before.disabled;
    const staysActiveOwner = after.role === "owner" && !after.disabled;
    if (wasActiveOwner && !staysActiveOwner && (await repo.countOtherActiveOwners(tenantId, userId)) === 0) {
      throw new ConflictError("The last active owner cannot be demoted or disabled", "last_owner");
    }
    await repo.update(tenantId, userId, {
      name: after.name,
      role: after.role,
      disabled: fromBool(after.disabled),
    });
    if (after.disabled && !before.disabled) await createSessionRepo(trx).deleteForSubject("user", userId);
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: "user.update",
        targetType: "user",
        targetId: userId,
        before: auditView(before),
        after: auditView(after),
        ip,
      },
      ctx.clock.now(),
    );
    return after;
  });
}
