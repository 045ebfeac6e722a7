import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { acknowledgeAlert } from "./acknowledge-alert.js";
import { ALERT_KINDS, listAlerts, withSubjects } from "./alert-repo.js";
import { WINDOWS } from "./health-figures.js";
import { integrationHealth, tenantHealth } from "./health-view.js";

const pct = z.number().nullable();
const windowSchema = z.object({
  api1: z.object({
    calls: z.number(),
    ok: z.number(),
    failed: z.number(),
    successRate: pct,
    latencyMs: z.object({
      ok: z.object({ p50: pct, p95: pct, p99: pct }),
      failed: z.object({ p50: pct, p95: pct, p99: pct }),
    }),
  }),
  callbacks: z.object({
    accepted: z.number(),
    duplicate: z.number(),
    rejected: z.number(),
    review: z.number(),
    statusQueryAnswers: z.number(),
  }),
  paymentUrlsIssued: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  conversion: pct,
  timeToFinalMs: z.object({ p50: pct, p95: pct }),
  signatureFailures: z.number(),
  amountMismatches: z.number(),
});
const windowsSchema = z.object(
  Object.fromEntries(Object.keys(WINDOWS).map((w) => [w, windowSchema])) as Record<
    keyof typeof WINDOWS,
    typeof windowSchema
  >,
);
const alertSchema = z.object({
  id: z.string(),
  integrationId: z.string(),
  kind: z.enum(ALERT_KINDS as [string, ...string[]]),
  status: z.enum(["open", "resolved"]),
  openedAt: z.number(),
  resolvedAt: z.number().nullable(),
  data: z.record(z.string(), z.number()),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.number().nullable(),
  /** `integrationId` holds a rate source's id when the subject is a rate source (fx_rate_stale). */
  subject: z.object({
    kind: z.enum(["integration", "rate_source", "webhook_endpoint"]),
    id: z.string(),
    name: z.string(),
  }),
});

/** Integration health figures and alerts (docs/operations.md). */
export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/admin/integrations/:id/health",
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags: ["health"],
        summary: "An integration's figures over the last 5 minutes, hour and day, and its open alerts",
        params: z.object({ id: z.string().min(1).max(100) }),
        response: {
          200: z.object({
            integrationId: z.string(),
            asOf: z.number(),
            windows: windowsSchema,
            pendingBeyondTtl: z.number(),
            openAlerts: z.array(alertSchema),
          }),
        },
      },
    },
    async (req) => integrationHealth(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.get(
    "/api/admin/health",
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags: ["health"],
        summary: "Every integration of the tenant: its figures per window, last callback and open alerts",
        response: {
          200: z.object({
            asOf: z.number(),
            integrations: z.array(
              z.object({
                id: z.string(),
                name: z.string(),
                enabled: z.boolean(),
                windows: windowsSchema,
                pendingBeyondTtl: z.number(),
                lastCallbackAt: z.number().nullable(),
                openAlerts: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => tenantHealth(ctx, staffOf(req).tenantId),
  );

  r.get(
    "/api/admin/alerts",
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags: ["health"],
        summary: "Integration alerts, open ones first, newest first",
        querystring: z.object({
          status: z.enum(["open", "resolved"]).optional(),
          integrationId: z.string().min(1).max(100).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: z.object({ items: z.array(alertSchema), total: z.number() }) },
      },
    },
    async (req) => listAlerts(ctx.db, staffOf(req).tenantId, req.query),
  );

  r.post(
    "/api/admin/alerts/:id/acknowledge",
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags: ["health"],
        summary: "Acknowledge an alert (it stays open until its rule resolves it); audited",
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: z.object({ alert: alertSchema }) },
      },
    },
    async (req) => {
      const tenantId = staffOf(req).tenantId;
      const alert = await acknowledgeAlert(ctx, staffOf(req), req.params.id, req.ip);
      return { alert: (await withSubjects(ctx.db, tenantId, [alert]))[0]! };
    },
  );
}
