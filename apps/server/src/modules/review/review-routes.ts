import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import {
  approveCredit,
  assistanceCreditInput,
  commentInput,
  creditAssistance,
  declineCredit,
  keepWaiting,
  keepWaitingInput,
  markFailed,
} from "./assistance-actions.js";
import { checkAssistanceStatus } from "./check-assistance-status.js";
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
    credit: z.string().describe("in creditCurrency, as the claim's and the approval's credit"),
    creditCurrency: z.string().describe("a quote's account currency, else currency (docs/exchange-rates.md)"),
    paidAmount: z.string().nullable(),
    integrationId: z.string(),
  }),
  client: z.object({ id: z.string(), name: z.string(), email: z.string() }),
  /** What the callback claimed; null for a needs-assistance item. */
  claim: z
    .object({
      status: z.number(),
      amount: z.string(),
      paidAmount: z.string(),
      /** The fee on the paid amount, by the order's fee rule as it was when the order was created. */
      fee: z.string(),
      credit: z.string(),
      transactionId: z.string().nullable(),
      time: z.number().nullable(),
    })
    .nullable(),
  /** Why the status queries left the order unresolved; null for other reasons. */
  assistance: z
    .object({
      why: z.enum(["still_open", "not_found", "query_failed"]),
      queries: z.number(),
      lastOutcome: z.string().nullable(),
      depositStatus: z.enum(DEPOSIT_STATUSES),
      fourEyesLimit: z.string().nullable(),
      creditNeedsApproval: z.boolean(),
    })
    .nullable(),
  /** A credit awaiting a second admin (four eyes). */
  approval: z
    .object({
      requestedBy: z.object({ id: z.string(), name: z.string() }),
      requestedAt: z.number(),
      comment: z.string(),
      paidAmount: z.string().nullable(),
      credit: z.string(),
    })
    .nullable(),
});

const assistanceAnswer = z.object({
  item: reviewItemSchema,
  /** `awaiting_approval`: a credit above the four-eyes limit was stored for a second admin. */
  outcome: z.enum(["resolved", "awaiting_approval", "declined"]),
  ledgerEntryId: z.string().nullable(),
});
const itemParams = z.object({ id: z.string().min(1).max(100) });

/** The review queue: callbacks that could not be applied automatically, for a human to resolve. */
export function reviewRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/admin/review",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["review"],
        summary:
          "Review queue: late successes, conflicts, amount mismatches and orders needing assistance, newest first; counts of open items per reason",
        querystring: z.object({
          status: z.enum(["open", "resolved"]).optional(),
          reason: z.enum(REVIEW_REASONS as [string, ...string[]]).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: {
          200: z.object({
            items: z.array(reviewItemSchema),
            total: z.number(),
            counts: z.record(z.string(), z.number()),
          }),
        },
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

  const action = <B extends z.ZodType>(path: string, summary: string, body: B) => ({
    path: `/api/admin/review/:id/${path}`,
    opts: {
      config: { access: { staff: "deposits:resolve" as const } },
      schema: { tags: ["review"], summary, params: itemParams, body, response: { 200: assistanceAnswer } },
    },
  });
  const keep = action(
    "keep-waiting",
    "Needs assistance: close the item and start a new status-query schedule",
    keepWaitingInput,
  );
  r.post(keep.path, keep.opts, async (req) =>
    keepWaiting(ctx, staffOf(req), req.params.id, req.body, req.ip),
  );
  const fail = action(
    "mark-failed",
    "Needs assistance: fail the open order (an expired or cancelled one just closes); comment required",
    commentInput,
  );
  r.post(fail.path, fail.opts, async (req) => markFailed(ctx, staffOf(req), req.params.id, req.body, req.ip));
  const credit = action(
    "credit",
    "Needs assistance: credit the order (or paid minus fee); above the tenant's four-eyes limit, request a second admin's approval",
    assistanceCreditInput,
  );
  r.post(credit.path, credit.opts, async (req) =>
    creditAssistance(ctx, staffOf(req), req.params.id, req.body, req.ip),
  );
  const approve = action("approve", "Four eyes: a second admin approves the requested credit", commentInput);
  r.post(approve.path, approve.opts, async (req) =>
    approveCredit(ctx, staffOf(req), req.params.id, req.body, req.ip),
  );
  const decline = action("decline", "Four eyes: a second admin declines the requested credit", commentInput);
  r.post(decline.path, decline.opts, async (req) =>
    declineCredit(ctx, staffOf(req), req.params.id, req.body, req.ip),
  );
  r.post(
    "/api/admin/review/:id/check-status",
    {
      config: { access: { staff: "deposits:resolve" } },
      schema: {
        tags: ["review"],
        summary:
          "Needs assistance: query the order's status now (API-3) and apply the answer; a final order closes the item (409 status_query_disabled when API-3 is off)",
        params: itemParams,
        response: {
          200: z.object({
            item: reviewItemSchema,
            query: z.object({
              outcome: z.enum(["found", "not_found", "failed"]),
              reason: z.string().nullable(),
              verdict: z.enum(["accepted", "duplicate", "rejected", "review"]).nullable(),
              depositStatus: z.enum(DEPOSIT_STATUSES),
            }),
          }),
        },
      },
    },
    async (req) => checkAssistanceStatus(ctx, staffOf(req), req.params.id, req.ip),
  );
}
