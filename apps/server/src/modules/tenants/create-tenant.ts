import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import { hashPassword } from "../../infra/crypto/hashing.js";
import { isUniqueViolation, writeTransaction } from "../../infra/db/database.js";
import type { Role } from "../../infra/db/schema.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { createTenantRepo } from "./tenant-repo.js";

export const passwordSchema = z.string().min(10, "must be at least 10 characters").max(200);
export const emailSchema = z
  .email()
  .max(254)
  .transform((e) => e.toLowerCase());

export const createTenantInput = z.object({
  slug: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{1,39}$/,
      "2-40 lower-case letters, digits or dashes, starting with a letter or digit",
    ),
  name: z.string().trim().min(1).max(120),
  owner: z.object({ email: emailSchema, name: z.string().trim().min(1).max(120), password: passwordSchema }),
});
export type CreateTenantInput = z.input<typeof createTenantInput>;

/** Creates a tenant and its first owner (CLI, demo seed, and the platform operator's console). */
export async function createTenant(
  ctx: Pick<AppContext, "db" | "clock">,
  input: CreateTenantInput,
  actor: AuditActor = { type: "system", id: null },
  ip: string | null = null,
) {
  const data = parseInput(createTenantInput, input);
  const now = ctx.clock.now();
  const tenantId = newId();
  const userId = newId();
  const passwordHash = await hashPassword(data.owner.password);
  try {
    await writeTransaction(ctx.db, async (trx) => {
      const repo = createTenantRepo(trx);
      await repo.insertTenant({
        id: tenantId,
        slug: data.slug,
        name: data.name,
        four_eyes_limits: null,
        created_at: now,
        suspended_at: null,
        suspension_reason: null,
      });
      await repo.insertUser({
        id: userId,
        tenant_id: tenantId,
        email: data.owner.email,
        name: data.owner.name,
        password_hash: passwordHash,
        role: "owner",
        disabled: 0,
        created_at: now,
      });
      await recordAudit(
        trx,
        {
          tenantId,
          actor,
          action: "tenant.create",
          targetType: "tenant",
          targetId: tenantId,
          after: { slug: data.slug, name: data.name, owner: data.owner.email },
          ip,
        },
        now,
      );
    });
  } catch (err) {
    // A new tenant has no users yet, so only its slug can clash (e-mail is unique per tenant).
    if (isUniqueViolation(err)) throw new ConflictError("A tenant with that slug exists", "slug_taken");
    throw err;
  }
  return { tenantId, ownerId: userId, slug: data.slug };
}

export const createUserInput = z.object({
  email: emailSchema,
  name: z.string().trim().min(1).max(120),
  password: passwordSchema,
  role: z.enum(["owner", "admin", "finance", "viewer"]),
});

/** Creates a back-office user in a tenant. */
export async function createUser(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  input: z.input<typeof createUserInput>,
  actor: { type: "user" | "api_key" | "system"; id: string | null } = { type: "system", id: null },
  ip: string | null = null,
): Promise<{ id: string; email: string; name: string; role: Role }> {
  const data = parseInput(createUserInput, input);
  const now = ctx.clock.now();
  const id = newId();
  const passwordHash = await hashPassword(data.password);
  try {
    await writeTransaction(ctx.db, async (trx) => {
      await createTenantRepo(trx).insertUser({
        id,
        tenant_id: tenantId,
        email: data.email,
        name: data.name,
        password_hash: passwordHash,
        role: data.role,
        disabled: 0,
        created_at: now,
      });
      await recordAudit(
        trx,
        {
          tenantId,
          actor,
          action: "user.create",
          targetType: "user",
          targetId: id,
          after: { email: data.email, name: data.name, role: data.role },
          ip,
        },
        now,
      );
    });
  } catch (err) {
    // Only within this tenant: the same address may be staff at other tenants, and saying so would
    // tell this tenant about another's staff.
    if (isUniqueViolation(err))
      throw new ConflictError("A user with that email exists in this company", "email_taken");
    throw err;
  }
  return { id, email: data.email, name: data.name, role: data.role };
}
