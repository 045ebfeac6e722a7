import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { clientOf, staffOf } from "../../http/access.js";
import { fxReport, fxReportCsv } from "./fx-report.js";
import { quoteDeposit, quoteInput } from "./quote-deposit.js";

const decimalText = z.string().describe("decimal text, e.g. 162.48");

export const quoteOut = z.object({
  payment: z.object({ amount: decimalText, currency: z.string(), fee: decimalText, net: decimalText }),
  account: z.object({ amount: decimalText, currency: z.string() }),
  fx: z
    .object({
      rate: decimalText.describe("the rate the client gets: the source's rate less the markup"),
      sourceRate: decimalText,
      markupBps: z.number().int(),
      markupAmount: decimalText.describe("what the markup kept, account currency"),
      sourceKind: z.enum(["manual", "external"]),
      sourceName: z.string(),
      rateTime: z.number().int().describe("the rate's own time, epoch ms"),
    })
    .nullable()
    .describe("null: the currency credits itself"),
  quotedAt: z.number().int(),
  validUntil: z.number().int().nullable().describe("epoch ms; null without a conversion"),
  token: z.string().nullable().describe("send as quoteToken when creating the deposit to lock this quote"),
});

const DESCRIPTION =
  "Both sides of a deposit before it is made. 400 with field paths as when creating it; 404 when the " +
  "method does not exist or is not visible; 503 fx_rate_unavailable when the rate cannot be used now.";

/** Deposit quotes: the portal's preview and the back office's (docs/exchange-rates.md#the-quote). */
export function quoteRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    "/api/portal/deposit-quote",
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "Quote a deposit: what is paid, the fee, what the wallet is credited, at which rate",
        description: DESCRIPTION,
        body: quoteInput,
        response: { 200: quoteOut },
      },
    },
    async (req) => {
      const c = clientOf(req);
      return quoteDeposit(ctx, { tenantId: c.tenantId, clientId: c.id }, req.body);
    },
  );
  r.post(
    "/api/admin/deposit-quote",
    {
      config: { access: { staff: "deposits:create" } },
      schema: {
        tags: ["deposits"],
        summary: "Quote a deposit for a client (as the portal's quote)",
        description: DESCRIPTION,
        body: quoteInput.extend({ clientId: z.string().min(1).max(64) }),
        response: { 200: quoteOut },
      },
    },
    async (req) => {
      const s = staffOf(req);
      const { clientId, ...input } = req.body;
      return quoteDeposit(ctx, { tenantId: s.tenantId, clientId }, input);
    },
  );

  r.get(
    "/api/admin/reports/fx",
    {
      config: { access: { staff: "deposits:read" } },
      schema: {
        tags: ["deposits"],
        summary:
          "FX volume and markup earned per pair (succeeded deposits with a quote, finalized in [from, to))",
        description:
          "Volumes and markup as decimal text: paymentVolume in the payment currency (what was paid), " +
          "accountVolume and markupEarned in the account currency. `format=csv`: the same rows as text/csv.",
        querystring: z.object({
          from: z.coerce.number().int().min(0).describe("finalized at or after (epoch ms)"),
          to: z.coerce.number().int().min(0).describe("finalized before (epoch ms)"),
          format: z.enum(["json", "csv"]).default("json"),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                paymentCurrency: z.string(),
                accountCurrency: z.string(),
                deposits: z.number().int(),
                paymentVolume: decimalText,
                accountVolume: decimalText,
                markupEarned: decimalText,
              }),
            ),
            from: z.number().int(),
            to: z.number().int(),
          }),
        },
      },
    },
    async (req, reply) => {
      const { from, to, format } = req.query;
      const items = await fxReport(ctx, staffOf(req).tenantId, { from, to });
      if (format === "csv") {
        const stamp = new Date(ctx.clock.now())
          .toISOString()
          .slice(0, 19)
          .replace(/[-:]/g, "")
          .replace("T", "-");
        // Sent as a string with the CSV type: the JSON serializer only runs for JSON answers.
        return reply
          .header("content-type", "text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="fx-report-${stamp}.csv"`)
          .header("cache-control", "no-store")
          .serializer((payload) => payload as string)
          .send(fxReportCsv(items) as never);
      }
      return { items, from, to };
    },
  );
}
