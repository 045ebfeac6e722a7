import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { type ManualAction, manualResolutionInput, resolveDepositByHand } from "./manual-resolution.js";

const result = z.object({
  id: z.string(),
  orderNo: z.string(),
  status: z.enum(["pending", "processing", "succeeded", "failed", "expired", "cancelled"]),
  ledgerEntryId: z.string().nullable(),
  currency: z.string(),
  /** The ordered amount, its fee and credit (what an approval credits), and the paid amount reported. */
  amount: z.string(),
  fee: z.string(),
  credit: z.string(),
  paidAmount: z.string().nullable(),
});

/** Manual approve / reject of an open deposit (back office, with a mandatory comment). */
export function manualResolutionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  for (const action of ["approve", "reject"] as const satisfies readonly ManualAction[]) {
    r.post(
      `/api/admin/deposits/:id/${action}`,
      {
        config: { access: { staff: "deposits:resolve" } },
        schema: {
          tags: ["deposits"],
          summary:
            action === "approve"
              ? "Approve an open deposit by hand: succeeded, credited exactly once"
              : "Reject an open deposit by hand: failed",
          params: z.object({ id: z.string().min(1).max(100) }),
          body: manualResolutionInput,
          response: { 200: result },
        },
      },
      async (req) => resolveDepositByHand(ctx, staffOf(req), req.params.id, action, req.body, req.ip),
    );
  }
}
