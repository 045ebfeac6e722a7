import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { staffOf } from "../../http/access.js";
import { listCallbackLogs } from "./callback-log-repo.js";

const VERDICTS = ["accepted", "duplicate", "rejected", "review"] as const;

const logItem = z.object({
  id: z.string(),
  createdAt: z.number(),
  verdict: z.enum(VERDICTS),
  errorType: z.string().nullable(),
  httpStatus: z.number(),
  merchantId: z.string().nullable(),
  orderNo: z.string().nullable(),
  depositId: z.string().nullable(),
  contentType: z.string().nullable(),
  rawBody: z.string(),
  remoteAddr: z.string().nullable(),
  /** 1, or for a summary of requests throttled with 429 (not stored one by one) their number. */
  requestCount: z.number().int(),
});

/** The API-2 callbacks an integration received, with their verdicts (back office). */
export function callbackLogRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/admin/integrations/:id/callbacks",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["callbacks"],
        summary: "An integration's API-2 callback log, newest first",
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.object({
          verdict: z.enum(VERDICTS).optional(),
          errorType: z.string().min(1).max(64).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: z.object({ items: z.array(logItem), total: z.number() }) },
      },
    },
    async (req) => {
      const actor = staffOf(req);
      const integ = await ctx.db
        .selectFrom("psp_integrations")
        .select("id")
        .where("id", "=", req.params.id)
        .where("tenant_id", "=", actor.tenantId)
        .executeTakeFirst();
      if (!integ) throw new NotFoundError("Integration");
      return listCallbackLogs(ctx.db, actor.tenantId, integ.id, req.query);
    },
  );
}
