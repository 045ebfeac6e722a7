import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { type Db, hasRowLocks, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import type { OperatorActor } from "./operator-actor.js";

/** The one refusal of a suspended tenant's portal and deposit creation (docs/security.md#suspension). */
export const tenantSuspendedError = (): ConflictError =>
  new ConflictError("This service is temporarily unavailable", "tenant_suspended");

/**
 * Refuses deposit creation for a suspended tenant, before any API-1 call. Callbacks, status
 * queries and the expiry sweep never call this: money already in flight settles as before.
 */
export async function assertTenantActive(db: Db, tenantId: string): Promise<void> {
  const t = await db
    .selectFrom("tenants")
    .select("suspended_at")
    .where("id", "=", tenantId)
    .executeTakeFirst();
  if (t && t.suspended_at !== null) throw tenantSuspendedError();
}

/** A portal session that may still be served: a client's, of a company not suspended. */
export const isLivePortalSession = (
  s: { kind: string; tenant_suspended_at: number | null } | undefined,
): boolean => s?.kind === "client" && s.tenant_suspended_at === null;

const reasonInput = z.object({ reason: z.string().trim().min(1).max(500) });

/**
 * Suspends a tenant: its portal refuses logins and live sessions, its deposit creation is
 * refused; its back office keeps working. Audited against the tenant, so its admins see who
 * suspended them and why. Suspending a suspended tenant is a 409 (nothing to do).
 */
export const suspendTenant = (ctx: Ctx, actor: OperatorActor, tenantId: string, input: { reason: string }) =>
  setSuspension(ctx, actor, tenantId, input, true);

/** Resumes a suspended tenant (reason required and audited, as for suspension). */
export const resumeTenant = (ctx: Ctx, actor: OperatorActor, tenantId: string, input: { reason: string }) =>
  setSuspension(ctx, actor, tenantId, input, false);

type Ctx = Pick<AppContext, "db" | "clock">;

async function setSuspension(
  ctx: Ctx,
  actor: OperatorActor,
  tenantId: string,
  input: { reason: string },
  suspend: boolean,
): Promise<void> {
  const { reason } = parseInput(reasonInput, input);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    // Under a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises): two operators at once
    // cannot both suspend, and the audit's "before" is what was changed.
    let q = trx
      .selectFrom("tenants")
      .select(["suspended_at", "suspension_reason"])
      .where("id", "=", tenantId);
    if (hasRowLocks(trx)) q = q.forUpdate();
    const current = await q.executeTakeFirst();
    if (!current) throw new NotFoundError("Company");
    const suspended = current.suspended_at !== null;
    if (suspended === suspend) {
      throw suspend
        ? new ConflictError("The company is already suspended", "already_suspended")
        : new ConflictError("The company is not suspended", "not_suspended");
    }
    await trx
      .updateTable("tenants")
      .set({ suspended_at: suspend ? now : null, suspension_reason: suspend ? reason : null })
      .where("id", "=", tenantId)
      .execute();
    await recordAudit(
      trx,
      {
        tenantId,
        actor: { type: "operator", id: actor.id },
        action: suspend ? "tenant.suspend" : "tenant.resume",
        targetType: "tenant",
        targetId: tenantId,
        before: suspended ? { suspended, reason: current.suspension_reason } : { suspended },
        after: { suspended: suspend, reason },
        ip: actor.ip,
      },
      now,
    );
  });
}
