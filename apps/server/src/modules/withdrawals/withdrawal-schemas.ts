import { z } from "zod";
import { currencyOut } from "../deposit-methods/method-currencies.js";
import { WITHDRAWAL_STATUSES } from "./withdrawal-state.js";

/** HTTP shapes of withdrawals and their methods: amounts as decimal text, never numbers. */

const decimalText = z.string().describe("decimal text in the currency's decimals");
const status = z.enum(WITHDRAWAL_STATUSES);
const ROLE = z.enum(["owner", "admin", "finance", "viewer"]);

export const withdrawalCurrencyOut = currencyOut.omit({ conversion: true });

export const withdrawalMethodOut = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  sortOrder: z.number().int(),
  currencies: z.array(withdrawalCurrencyOut),
  fields: z.array(z.object({ key: z.string(), label: z.string(), required: z.boolean() })),
  visibility: z.enum(["all", "groups"]),
  clientGroups: z.array(z.string()),
  payoutMode: z.enum(["manual", "integration"]),
  integrationId: z.string().nullable(),
  approval: z.object({
    bands: z.array(z.object({ from: z.string(), levels: z.number().int() })),
    rolesByLevel: z.array(z.array(ROLE)),
    autoPayout: z.boolean(),
  }),
  failedPayout: z.enum(["release", "keep"]),
});

export const portalWithdrawalMethodOut = withdrawalMethodOut.pick({
  id: true,
  name: true,
  currencies: true,
  fields: true,
});

const RISK = z.enum(["soon_after_deposit", "new_destination", "more_than_deposited"]);

export const withdrawalSummaryOut = z.object({
  id: z.string(),
  payoutNo: z.string(),
  clientId: z.string(),
  clientEmail: z.string().nullable(),
  clientName: z.string().nullable(),
  methodId: z.string(),
  methodName: z.string().nullable(),
  payoutMode: z.enum(["manual", "integration"]).nullable(),
  currency: z.string(),
  amount: decimalText.describe("what leaves the wallet"),
  fee: decimalText,
  payoutAmount: decimalText.describe("what the client receives: amount − fee"),
  status,
  levelsRequired: z.number().int(),
  levelsDone: z.number().int(),
  nextLevel: z.number().int().nullable().describe("the level waiting for a decision; null unless open"),
  needsAssistance: z.string().nullable().describe("why finance must decide; null otherwise"),
  riskFlags: z.array(RISK),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const action = z.object({ allowed: z.boolean(), why: z.string().nullable() });

export const withdrawalDetailOut = withdrawalSummaryOut.extend({
  fields: z.record(z.string(), z.string()),
  fieldLabels: z.record(z.string(), z.string()),
  clientReason: z.string().nullable(),
  payoutReference: z.string().nullable(),
  transactionId: z.string().nullable(),
  integrationId: z.string().nullable(),
  wallet: z.object({ balance: decimalText, held: decimalText, available: decimalText }),
  decisions: z.array(
    z.object({
      level: z.number().int(),
      decision: z.enum(["approve", "reject"]),
      staffId: z.string(),
      staffEmail: z.string().nullable(),
      comment: z.string(),
      createdAt: z.number(),
    }),
  ),
  events: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      data: z.record(z.string(), z.unknown()),
      createdAt: z.number(),
    }),
  ),
  recent: z.object({
    deposits: z.array(
      z.object({
        orderNo: z.string(),
        amount: decimalText,
        currency: z.string(),
        status: z.string(),
        createdAt: z.number(),
      }),
    ),
    withdrawals: z.array(
      z.object({
        id: z.string(),
        payoutNo: z.string(),
        amount: decimalText,
        currency: z.string(),
        status,
        createdAt: z.number(),
      }),
    ),
  }),
  actions: z.object({
    approve: action,
    reject: action,
    markPaid: action,
    startPayout: action,
    checkPayout: action,
    markFailed: action,
  }),
});

export const adminListQuery = z.object({
  status: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/)
    .optional()
    .describe("one status or several, comma-separated"),
  level: z.coerce.number().int().min(1).max(10).optional().describe("waiting for this level's decision"),
  methodId: z.string().min(1).max(100).optional(),
  clientId: z.string().min(1).max(100).optional(),
  currency: z.string().min(1).max(12).optional(),
  needsAssistance: z.enum(["true", "false"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,7}$/)
    .optional()
    .describe("nextCursor of the page before"),
});

export const clientWithdrawalOut = z.object({
  id: z.string(),
  payoutNo: z.string(),
  methodName: z.string().nullable(),
  currency: z.string(),
  amount: decimalText,
  fee: decimalText,
  payoutAmount: decimalText,
  status,
  clientReason: z.string().nullable().describe("why it was rejected, in the words the admin chose"),
  cancellable: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export const portalRequestBody = z.object({
  methodId: z.string().min(1).max(100),
  currency: z.string().min(1).max(12),
  amount: z.string().min(1).max(40),
  fields: z.record(z.string().max(40), z.string().max(200)).default({}),
  idempotencyKey: z.string().min(8).max(100).optional(),
});

export const commentBody = z.object({ comment: z.string().trim().min(1).max(1000) });
export const rejectBody = commentBody.extend({ clientReason: z.string().trim().min(1).max(500) });
export const markPaidBody = z.object({
  reference: z.string().trim().min(1).max(200),
  comment: z.string().trim().max(1000).optional(),
});
