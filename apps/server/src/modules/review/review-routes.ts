import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { resolveReviewInput, resolveReviewItem } from "./resolve-review.js";
import { listReviewItems, REVIEW_REASONS } from "./review-repo.js";

const DEPOSIT_STATUSES = ["pending", "processing", "succeeded", "failed", "expired", "cancelled"] as const;

export const reviewItemSchema = z.object({
  id: z.string(),
  reason: z.string(),
  status: z.enum(["open", "resolved"]),
  resolution: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  comment: z.string().nullable(),
  callbackLogId: z.string().nullable(),
  createdAt: z.number(),
  resolvedAt: z.number().nullable(),
  deposit: z.object({
    id: z.string(),
    orderNo: z.string(),
    status: z.enum(DEPOSIT_STATUSES),
    currency: z.string(),
    amount: z.string(),
    fee: z.string(),
    credit: z.string(),
    paidAmount: z.string().nullable(),
    integrationId: z.string(),
  }),
  client: z.object({ id: z.string(), name: z.string(), email: z.string() }),
  claim: z.object({
    status: z.number(),
    amount: z.string(),
    paidAmount: z.string(),
    /** The fee on the paid amount, by the order's fee rule as it was when the order was created. */
    fee: z.string(),
    credit: z.string(),
    transactionId: z.string().nullable(),
    time: z.number().nullable(),
  }),
});

/** The review queue: callbacks that could not be applied automatically, for a human to resolve. */
export function reviewRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/admin/review",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["review"],
        summary: "Review queue: late successes, conflicts and amount mismatches, newest first",
        querystring: z.object({
          status: z.enum(["open", "resolved"]).optional(),
          reason: z.enum(REVIEW_REASONS as [string, ...string[]]).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: z.object({ items: z.array(reviewItemSchema), total: z.number() }) },
      },
    },
    async (req) => listReviewItems(ctx.db, staffOf(req).tenantId, req.query),
  );

  r.post(
    "/api/admin/review/:id/resolve",
    {
      config: { access: { staff: "deposits:resolve" } },
      schema: {
        tags: ["review"],
        summary: "Resolve a review item once: credit the reported payment, or dismiss it (comment required)",
        params: z.object({ id: z.string().min(1).max(100) }),
        body: resolveReviewInput,
        response: { 200: z.object({ item: reviewItemSchema, ledgerEntryId: z.string().nullable() }) },
      },
    },
    async (req) => resolveReviewItem(ctx, staffOf(req), req.params.id, req.body, req.ip),
  );
}
