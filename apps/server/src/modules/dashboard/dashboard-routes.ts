import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { DEPOSIT_STATUSES } from "../deposits/deposit-state.js";
import { DASHBOARD_RANGES, type DashboardRange } from "./dashboard-range.js";
import { dashboard } from "./dashboard-view.js";

const figures = z.object({ count: z.number(), volume: z.string().describe("decimal text") });
const ms = z.number().nullable();

/** The back office's home page (docs/operations.md#dashboard). */
export function dashboardRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/api/admin/dashboard",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["dashboard"],
        summary:
          "Deposits per currency and status, integration health and the review queue over a range of days",
        querystring: z.object({
          range: z
            .enum(Object.keys(DASHBOARD_RANGES) as [DashboardRange, ...DashboardRange[]])
            .default("today"),
          tz: z.coerce
            .number()
            .int()
            .min(-840)
            .max(840)
            .default(0)
            .describe("the browser's getTimezoneOffset(): days start at the viewer's midnight"),
        }),
        response: {
          200: z.object({
            asOf: z.number(),
            range: z.enum(Object.keys(DASHBOARD_RANGES) as [DashboardRange, ...DashboardRange[]]),
            from: z.number(),
            to: z.number(),
            currencies: z.array(
              z.object({
                currency: z.string(),
                total: figures,
                byStatus: z.object(Object.fromEntries(DEPOSIT_STATUSES.map((s) => [s, figures]))),
                perDay: z.array(
                  z.object({
                    day: z.number(),
                    ...Object.fromEntries(DEPOSIT_STATUSES.map((s) => [s, z.number()])),
                  }),
                ),
              }),
            ),
            integrations: z.array(
              z.object({
                id: z.string(),
                name: z.string(),
                enabled: z.boolean(),
                conversion: z.number().nullable(),
                timeToFinalMs: z.object({ p50: ms, p95: ms }),
                succeeded: z.number(),
                failed: z.number(),
                breaker: z.object({
                  state: z.enum(["closed", "open", "half_open"]),
                  mode: z.enum(["off", "dry_run", "on"]),
                }),
                latency: z.array(z.object({ at: z.number(), p50: z.number() })),
                lastCallbackAt: ms,
                openAlerts: z.number(),
              }),
            ),
            review: z.object({ byReason: z.record(z.string(), z.number()), needsAssistance: z.number() }),
          }),
        },
      },
    },
    async (req) => dashboard(ctx, staffOf(req).tenantId, req.query),
  );
}
