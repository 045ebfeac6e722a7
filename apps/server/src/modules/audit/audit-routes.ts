import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { parseSort, sortParam } from "../../infra/db/list-order.js";
import { AUDIT_SORT_COLUMNS, listAudit } from "./audit-queries.js";

const filterText = z.string().trim().min(1).max(200).optional();
const epochMs = z.coerce.number().int().min(0).optional();

/** The tenant's audit log (audit:read). */
export function auditRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/admin/audit",
    {
      config: { access: { staff: "audit:read" } },
      schema: {
        tags: ["audit"],
        summary:
          "Audit records, sorted over the whole log (newest first by default); from/to are epoch ms, both inclusive",
        querystring: z.object({
          action: filterText,
          targetType: filterText,
          targetId: filterText,
          actorId: filterText,
          from: epochMs,
          to: epochMs,
          sort: sortParam(AUDIT_SORT_COLUMNS, "created_at:desc"),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                actorType: z.enum(["user", "api_key", "system", "client", "operator"]),
                actorId: z.string().nullable(),
                actorName: z.string().nullable(),
                action: z.string(),
                targetType: z.string(),
                targetId: z.string().nullable(),
                before: z.unknown(),
                after: z.unknown(),
                ip: z.string().nullable(),
                createdAt: z.number(),
              }),
            ),
            total: z.number(),
          }),
        },
      },
    },
    async (req) => listAudit(ctx, staffOf(req).tenantId, { ...req.query, sort: parseSort(req.query.sort) }),
  );
}
