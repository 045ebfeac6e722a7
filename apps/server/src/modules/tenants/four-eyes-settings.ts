import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import { parseInput } from "../../common/validation.js";
import { type StaffActor, staffOf } from "../../http/access.js";
import { encodeJson } from "../../infra/db/database.js";
import { auditActorOf, recordAudit } from "../audit/audit-repo.js";
import { type FourEyesLimits, fourEyesLimitsOf } from "./four-eyes.js";

const currencyCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2,9}$/, "3 to 10 upper-case letters or digits, starting with a letter");

export const fourEyesInput = z.object({
  /** Per currency, the largest credit one admin may make alone; a currency not listed always needs two. */
  limits: z
    .record(currencyCode, plainDecimal)
    .refine((l) => Object.keys(l).length <= 100, "at most 100 currencies"),
});
export type FourEyesInput = z.infer<typeof fourEyesInput>;

async function readLimits(ctx: Pick<AppContext, "db">, tenantId: string): Promise<FourEyesLimits> {
  const row = await ctx.db
    .selectFrom("tenants")
    .select("four_eyes_limits")
    .where("id", "=", tenantId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError("Tenant");
  return fourEyesLimitsOf(row.four_eyes_limits);
}

/** Replaces the tenant's four-eyes limits, audited with what they were. */
export async function setFourEyesLimits(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: StaffActor,
  raw: FourEyesInput,
  ip: string | null = null,
): Promise<{ limits: FourEyesLimits }> {
  const { limits } = parseInput(fourEyesInput, raw);
  await ctx.db.transaction().execute(async (trx) => {
    const before = await readLimits({ db: trx }, actor.tenantId);
    await trx
      .updateTable("tenants")
      .set({ four_eyes_limits: Object.keys(limits).length === 0 ? null : encodeJson(limits) })
      .where("id", "=", actor.tenantId)
      .execute();
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: auditActorOf(actor),
        action: "settings.four_eyes",
        targetType: "tenant",
        targetId: actor.tenantId,
        before: { limits: before },
        after: { limits },
        ip,
      },
      ctx.clock.now(),
    );
  });
  return { limits };
}

const limitsAnswer = z.object({ limits: z.record(z.string(), z.string()) });

/** The tenant's four-eyes limits for needs-assistance credits (owner and admin: settings:write). */
export function fourEyesRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/admin/settings/four-eyes",
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags: ["settings"],
        summary: "Four-eyes limits per currency: a needs-assistance credit above one needs a second admin",
        response: { 200: limitsAnswer },
      },
    },
    async (req) => ({ limits: await readLimits(ctx, staffOf(req).tenantId) }),
  );
  r.put(
    "/api/admin/settings/four-eyes",
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags: ["settings"],
        summary:
          "Replace the four-eyes limits (decimal text per currency; a currency not listed always needs two)",
        body: fourEyesInput,
        response: { 200: limitsAnswer },
      },
    },
    async (req) => setFourEyesLimits(ctx, staffOf(req), req.body, req.ip),
  );
}
