import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { staffOf } from "../../http/access.js";
import { csvResponse, sendCsv } from "../../http/csv-export.js";
import { parseSort, sortParam } from "../../infra/db/list-order.js";
import { exportCallbackLog } from "./callback-log-export.js";
import { CALLBACK_LOG_SORT_COLUMNS, CALLBACK_LOG_SOURCES, listCallbackLogs } from "./callback-log-repo.js";

const VERDICTS = ["accepted", "duplicate", "rejected", "review"] as const;

const logItem = z.object({
  id: z.string(),
  createdAt: z.number(),
  verdict: z.enum(VERDICTS),
  errorType: z.string().nullable(),
  errorDetail: z
    .string()
    .nullable()
    .describe("why it was refused, as the answer's `detail` said (null: accepted, or logged before 0016)"),
  diagnosis: z
    .object({
      check: z.enum([
        "body",
        "merchant_id",
        "header_token",
        "sign",
        "order",
        "method",
        "currency",
        "amount",
        "status",
      ]),
      stringA: z.string().optional(),
      stringAParsed: z.string().optional(),
      orderedAmount: z.string().optional(),
      paidAmount: z.string().optional(),
      orderCurrency: z.string().optional(),
      orderStatus: z.string().optional(),
    })
    .nullable()
    .describe(
      "the check that failed; for a sign, the StringA the CRM computed from the body as sent (and with numbers as parsed, when different); for an amount, the ordered and the paid amount",
    ),
  httpStatus: z.number(),
  merchantId: z.string().nullable(),
  orderNo: z.string().nullable(),
  depositId: z.string().nullable(),
  /** The withdrawal of an API-5 callback or payout status answer. */
  withdrawalId: z.string().nullable(),
  contentType: z.string().nullable(),
  rawBody: z.string(),
  remoteAddr: z.string().nullable(),
  /** 1, or for a summary of requests throttled with 429 (not stored one by one) their number. */
  requestCount: z.number().int(),
  /** `callback` (API-2), `status_query` (an API-3 answer), `payout_callback` (API-5), `payout_status_query`. */
  source: z.enum(CALLBACK_LOG_SOURCES),
});

const filters = {
  verdict: z.enum(VERDICTS).optional(),
  errorType: z.string().min(1).max(64).optional(),
  source: z.enum(CALLBACK_LOG_SOURCES).optional(),
  sort: sortParam(CALLBACK_LOG_SORT_COLUMNS, "created_at:desc"),
};
const integrationParams = z.object({ id: z.string().min(1).max(100) });

/** The API-2 callbacks an integration received, with their verdicts (back office). */
export function callbackLogRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  /** The integration, if it is the tenant's (404 otherwise, as for one that does not exist). */
  const tenantIntegration = async (tenantId: string, id: string): Promise<string> => {
    const integ = await ctx.db
      .selectFrom("psp_integrations")
      .select("id")
      .where("id", "=", id)
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst();
    if (!integ) throw new NotFoundError("Integration");
    return integ.id;
  };

  r.get(
    "/api/admin/integrations/:id/callbacks",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["callbacks"],
        summary: "An integration's API-2 callback log, sorted over the whole log (newest first by default)",
        params: integrationParams,
        querystring: z.object({
          ...filters,
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: z.object({ items: z.array(logItem), total: z.number() }) },
      },
    },
    async (req) => {
      const actor = staffOf(req);
      const integrationId = await tenantIntegration(actor.tenantId, req.params.id);
      return listCallbackLogs(ctx.db, actor.tenantId, integrationId, {
        ...req.query,
        sort: parseSort(req.query.sort),
      });
    },
  );

  r.get(
    "/api/admin/integrations/:id/callbacks/export.csv",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["callbacks"],
        summary: "Every callback of the log's filters, in its order, as CSV (streamed)",
        description:
          "text/csv; charset=utf-8, an attachment. RFC 4180; times ISO 8601 UTC; a cell that a spreadsheet " +
          "would run as a formula starts with an apostrophe. Never a header of the request (no token).",
        params: integrationParams,
        querystring: z.object(filters),
        produces: ["text/csv"],
        response: csvResponse,
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      const integrationId = await tenantIntegration(actor.tenantId, req.params.id);
      const { sort, ...filter } = req.query;
      const body = exportCallbackLog(ctx, actor.tenantId, integrationId, filter, parseSort(sort));
      return sendCsv(reply, "callbacks", ctx.clock.now(), body);
    },
  );
}
