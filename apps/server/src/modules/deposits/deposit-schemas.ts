import { z } from "zod";
import { plainDecimal } from "../../common/plain-decimal.js";
import { sortParam } from "../../infra/db/list-order.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { CALLBACK_LOG_SOURCES } from "../callbacks/callback-log-repo.js";
import { depositWebhookOut } from "../webhooks/endpoint-schemas.js";
import type { DepositEventKind } from "./deposit-events.js";
import { DEPOSIT_SORT_COLUMNS } from "./deposit-queries.js";
import { DEPOSIT_STATUSES } from "./deposit-state.js";

/**
 * Route schemas of the deposit endpoints. Response schemas list every field: fastify strips
 * the rest, so no column reaches a client by accident (never failure_reason in the portal).
 */

export const depositStatus = z.enum(DEPOSIT_STATUSES as [DepositStatus, ...DepositStatus[]]);
const decimalText = z.string().describe("decimal text, e.g. 162.48");
const epochMs = z.number().int().describe("epoch milliseconds");

export const idempotencyHeaders = z.looseObject({
  "idempotency-key": z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      "Optional. The same key with the same content answers the same order; different content answers 409",
    ),
});

const depositRequestFields = {
  methodId: z.string().min(1).max(64),
  currency: z.string().min(1).max(12).describe("currency code accepted by the method, e.g. USD"),
  amount: plainDecimal.describe('plain decimal text ("100.50", "100"); at most the currency\'s decimals'),
  fields: z
    .record(z.string(), z.string())
    .optional()
    .describe("the method's deposit fields by key (see GET /api/portal/deposit-methods)"),
  device: z.enum(["mobile", "pc"]).optional(),
  language: z
    .string()
    .min(2)
    .max(35)
    .optional()
    .describe("portal language (en-us, de); defaults to the client's"),
};
export const portalCreateBody = z.object({
  ...depositRequestFields,
  quoteToken: z
    .string()
    .min(1)
    .max(4000)
    .optional()
    .describe(
      "a deposit quote's token: the order locks exactly that quote (409 quote_expired, 409 quote_mismatch)",
    ),
});
export const adminCreateBody = portalCreateBody.extend({ clientId: z.string().min(1).max(64) });

const failureFields = {
  reason: z
    .enum(["api1_declined", "api1_unavailable", "payment_failed"])
    .describe(
      "api1_declined: the payment provider refused to start the payment; api1_unavailable: it gave no " +
        "payment page (unreachable, an error); payment_failed: the payment itself failed",
    ),
  message: z
    .string()
    .nullable()
    .describe("the provider's own words (cleaned) when it refused properly (api1_declined); null otherwise"),
};
const clientFailure = z
  .object({ code: z.enum(["payment_provider_failed", "payment_failed"]), ...failureFields })
  .nullable();

const createResultFields = {
  orderNo: z.string(),
  status: depositStatus,
  paymentUrl: z
    .string()
    .nullable()
    .describe("open it in a new tab; null unless the order is pending/processing"),
  error: clientFailure,
  replayed: z.boolean().describe("true when the Idempotency-Key answered an order created earlier"),
};
export const portalCreateResult = z.object(createResultFields);
export const adminCreateResult = z.object({ id: z.string(), ...createResultFields });

/** The quote locked on an order (docs/exchange-rates.md); null without one. */
export const depositQuote = z
  .object({
    paymentAmount: decimalText,
    paymentCurrency: z.string(),
    fee: decimalText,
    accountAmount: decimalText,
    accountCurrency: z.string(),
    rate: decimalText.describe("the rate the client gets, after the markup"),
    sourceRate: decimalText,
    markupBps: z.number().int(),
    markupAmount: decimalText,
    sourceKind: z.enum(["manual", "external"]),
    sourceName: z.string(),
    rateTime: epochMs,
    quotedAt: epochMs,
  })
  .nullable();

export const portalDeposit = z.object({
  orderNo: z.string(),
  methodId: z.string(),
  status: depositStatus,
  amount: decimalText,
  fee: decimalText,
  credit: decimalText.describe("in creditCurrency"),
  currency: z.string(),
  creditCurrency: z
    .string()
    .describe("the wallet currency credited: a quote's account currency, else currency"),
  quote: depositQuote,
  methodName: z.string(),
  paymentUrl: z.string().nullable().describe("null unless pending/processing with nothing under review"),
  failure: z.object(failureFields).nullable().describe("why a failed deposit failed; null unless failed"),
  underReview: z
    .boolean()
    .describe(
      "a payment was reported for this order and waits for a person's check (paid after expiry or " +
        "cancellation, another amount, …); it cannot be cancelled meanwhile",
    ),
  createdAt: epochMs,
  updatedAt: epochMs,
  finalizedAt: epochMs.nullable(),
});

export const page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const portalMethod = z.object({
  id: z.string(),
  name: z.string(),
  currencies: z.array(
    z.object({
      code: z.string(),
      decimals: z.number().int(),
      min: decimalText,
      max: decimalText,
      feePercent: decimalText.describe("percent, e.g. 2.50"),
      feeFixed: decimalText,
      feeMax: decimalText.nullable().describe("null: no cap"),
      accountCurrency: z.string().nullable().describe("the wallet currency it credits; null: itself"),
    }),
  ),
  fields: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      type: z.enum(["text", "number", "email", "phone", "select"]),
      required: z.boolean(),
      options: z.array(z.string()).describe("the allowed values of a select; empty otherwise"),
    }),
  ),
  temporarilyUnavailable: z
    .boolean()
    .describe(
      "its payment provider is not answering (API-1 breaker open): creating a deposit answers 503 method_temporarily_unavailable",
    ),
  fallbackMethodId: z
    .string()
    .nullable()
    .describe("while temporarily unavailable: an available method of this list to offer instead; else null"),
});

const adminListFilters = {
  status: depositStatus.optional(),
  clientId: z.string().min(1).max(64).optional(),
  methodId: z.string().min(1).max(64).optional(),
  integrationId: z.string().min(1).max(64).optional(),
  currency: z.string().min(1).max(12).optional().describe("the order's currency code, e.g. USD"),
  orderNo: z.string().min(1).max(64).optional(),
  from: z.coerce.number().int().min(0).optional().describe("created at or after (epoch ms)"),
  to: z.coerce.number().int().min(0).optional().describe("created before (epoch ms)"),
  sort: sortParam(DEPOSIT_SORT_COLUMNS, "created_at:desc"),
};
export const adminListQuery = z.object({ ...adminListFilters, ...page });
/** The export takes the list's filters and order, and no page: it is every row. */
export const adminExportQuery = z.object(adminListFilters);

const adminDepositFields = {
  id: z.string(),
  orderNo: z.string(),
  status: depositStatus,
  clientId: z.string(),
  clientName: z.string().nullable(),
  methodId: z.string(),
  methodName: z.string().nullable(),
  integrationId: z.string(),
  integrationName: z.string().nullable(),
  currency: z.string(),
  decimals: z.number().int(),
  amount: decimalText,
  fee: decimalText,
  credit: decimalText.describe("in creditCurrency"),
  creditCurrency: z
    .string()
    .describe("the wallet currency credited: a quote's account currency, else currency"),
  quote: depositQuote,
  paidAmount: decimalText.nullable(),
  paymentUrl: z.string().nullable(),
  transactionId: z.string().nullable(),
  pspTime: epochMs.nullable(),
  failureReason: z.string().nullable().describe("for admins: a stable code, then `: detail`"),
  failureMessage: z.string().nullable().describe("what the client was shown"),
  fields: z.record(z.string(), z.string()),
  device: z.string().nullable(),
  language: z.string().nullable(),
  createdBy: z.string().nullable(),
  expiresAt: epochMs,
  createdAt: epochMs,
  updatedAt: epochMs,
  finalizedAt: epochMs.nullable(),
};
export const adminDeposit = z.object(adminDepositFields);

// The timeline: one variant per kind of deposit-events.ts, which the writers are typed by
// (deposit-schemas.test.ts checks that the two agree). A discriminated union, so the web can
// narrow an event by its `kind`.
const ev = <K extends DepositEventKind, D extends z.ZodType>(kind: K, data: D) =>
  z.object({ id: z.string(), kind: z.literal(kind), createdAt: epochMs, data });
const nullableStr = z.string().nullable();
export const timelineEvent = z.discriminatedUnion("kind", [
  ev(
    "created",
    z.object({
      by: z.enum(["client", "staff"]),
      actorId: nullableStr,
      amount: decimalText,
      currency: z.string(),
      fee: decimalText,
      quote: z
        .object({
          accountAmount: decimalText,
          accountCurrency: z.string(),
          rate: decimalText.describe("the source's rate, before the markup"),
          markupBps: z.number().int(),
          markupAmount: decimalText,
          sourceKind: z.enum(["manual", "external"]),
          sourceName: z.string(),
          rateTime: epochMs,
          quotedAt: epochMs,
          validUntil: epochMs,
        })
        .optional(),
    }),
  ),
  ev(
    "api1_call",
    z.object({
      url: z.string(),
      request: z.record(z.string(), z.unknown()).describe("the signed body as sent (no token; sign kept)"),
      httpStatus: z.number().int().nullable(),
      response: nullableStr.describe("response body, truncated to 4 KiB"),
      latencyMs: z.number(),
      outcome: z.enum(["ok", "failed"]),
      reason: z.string().optional(),
      paymentUrl: z.string().optional(),
    }),
  ),
  ev(
    "callback",
    z.object({
      callbackLogId: z.string(),
      status: z.number().nullable(),
      amount: nullableStr,
      verdict: z.string(),
      errorType: nullableStr,
    }),
  ),
  ev(
    "status_change",
    z.object({
      from: z.string(),
      to: z.string(),
      cause: z.enum(["callback", "status_query", "manual", "expiry", "api1", "review", "cancel"]),
    }),
  ),
  ev(
    "status_query",
    z.object({
      trigger: z.enum(["schedule", "expiry", "manual"]),
      step: z.number().int().nullable().describe("the schedule's step (0-based); null for expiry and manual"),
      outcome: z.enum(["found", "not_found", "failed"]),
      reason: nullableStr.describe("why the query failed, or the error type a found answer was refused with"),
      callbackLogId: nullableStr,
      verdict: z.enum(["accepted", "duplicate", "rejected", "review"]).nullable(),
    }),
  ),
  ev(
    "ledger",
    z.object({ entryId: z.string(), walletId: z.string(), amount: decimalText, currency: z.string() }),
  ),
  ev(
    "manual",
    z.object({ action: z.enum(["approve", "reject", "cancel"]), actorId: nullableStr, comment: z.string() }),
  ),
  ev(
    "review",
    z.object({
      reviewItemId: z.string(),
      reason: z.string(),
      resolution: z.string().optional(),
      comment: z.string().optional(),
      requestedBy: z.string().optional().describe("four eyes: the user who asked for the credit"),
      requestedByName: z.string().optional(),
      approvedBy: z.string().optional().describe("four eyes: the second user, who approved it"),
      approvedByName: z.string().optional(),
    }),
  ),
]);

export const adminDepositDetail = z.object({
  ...adminDepositFields,
  enteredFields: z
    .array(z.object({ key: z.string(), label: z.string(), value: z.string() }))
    .describe("`fields` under their labels: the method's, else the integration's, else the key"),
  timeline: z.array(timelineEvent),
  ledgerEntry: z
    .object({
      id: z.string(),
      walletId: z.string(),
      amount: decimalText,
      kind: z.string(),
      memo: z.string().nullable(),
      createdAt: epochMs,
    })
    .nullable(),
  callbacks: z.array(
    z.object({
      id: z.string(),
      verdict: z.string(),
      errorType: z.string().nullable(),
      httpStatus: z.number().int(),
      createdAt: epochMs,
      rawBody: z.string(),
      /** `callback` (API-2) or `status_query` (an API-3 answer). */
      source: z.enum(CALLBACK_LOG_SOURCES),
    }),
  ),
  webhooks: z
    .array(depositWebhookOut)
    .describe("The outbound webhook deliveries of its events (docs/webhooks.md)"),
});
