import { API1_PARAM_NAMES, type Api1ParamName } from "@psphub/protocol/admin";
import { z } from "zod";
import { SCHEDULE_LIMITS } from "../status-query/status-query-schedule.js";
import { DEFAULT_API1_TIMEOUT_MS } from "./integration-model.js";

/**
 * HTTP and use-case schemas of PSP integrations. They check shapes and types only; the rules
 * that need the whole configuration (key uniqueness, mandatory parameters, select options,
 * APP_URL policy) run in the use-cases so their issues carry plain field paths such as
 * `paramConfig.amount.key`.
 */

export const CUSTOM_PARAM_TYPES = ["text", "number", "email", "phone", "select"] as const;
export const AMOUNT_POLICIES = ["exact", "credit_paid", "review"] as const;
export const MAX_CUSTOM_PARAMS = 50;
export const MAX_SELECT_OPTIONS = 50;

const paramSettingInput = z.strictObject({
  key: z.string().max(200).optional(),
  enabled: z.boolean().optional(),
});
const paramConfigShape = {} as Record<Api1ParamName, z.ZodOptional<typeof paramSettingInput>>;
for (const name of API1_PARAM_NAMES) paramConfigShape[name] = paramSettingInput.optional();

/** A (partial) API-1 parameter configuration: given entries are merged over the current one. */
export const paramConfigInput = z.strictObject(paramConfigShape);
export type ParamConfigInput = z.output<typeof paramConfigInput>;

export const customParamInput = z.object({
  /** Defaults to the next free `custom_<n>`. */
  key: z.string().max(200).optional(),
  label: z.string().trim().min(1).max(80),
  type: z.enum(CUSTOM_PARAM_TYPES),
  required: z.boolean(),
  /** `select` only (and required there): 1..50 unique non-empty values. */
  options: z.array(z.string().max(200)).max(200).optional(),
  /** Display order; defaults to the position in the list. */
  order: z.number().int().min(0).max(100_000).optional(),
});
export type CustomParamInput = z.output<typeof customParamInput>;

export const customParamsInput = z.array(customParamInput).max(MAX_CUSTOM_PARAMS);

const name = z.string().trim().min(1).max(120);
const appUrl = z.string().trim().min(1).max(2048);
const api1TimeoutMs = z.number().int().min(1_000).max(60_000);
const amountPolicy = z.enum(AMOUNT_POLICIES);

/** API-3's settings, every field optional: given ones replace the current (or default) ones. */
export const statusQueryInput = z.strictObject({
  enabled: z.boolean().optional(),
  /** Delays in seconds, each counted from the query before it (the first from API-1's success). */
  scheduleSeconds: z
    .array(z.number().int().min(SCHEDULE_LIMITS.minDelaySeconds).max(SCHEDULE_LIMITS.maxDelaySeconds))
    .min(SCHEDULE_LIMITS.minSteps)
    .max(SCHEDULE_LIMITS.maxSteps)
    .optional(),
  timeoutMs: z.number().int().min(1_000).max(60_000).optional(),
});

export const createIntegrationInput = z.object({
  name,
  appUrl,
  enabled: z.boolean().default(true),
  api1TimeoutMs: api1TimeoutMs.default(DEFAULT_API1_TIMEOUT_MS),
  amountPolicy: amountPolicy.default("exact"),
  paramConfig: paramConfigInput.optional(),
  customParams: customParamsInput.default([]),
  statusQuery: statusQueryInput.optional(),
});
export type CreateIntegrationInput = z.input<typeof createIntegrationInput>;

export const updateIntegrationInput = z.object({
  name: name.optional(),
  appUrl: appUrl.optional(),
  enabled: z.boolean().optional(),
  api1TimeoutMs: api1TimeoutMs.optional(),
  amountPolicy: amountPolicy.optional(),
  /** Merged over the current configuration. */
  paramConfig: paramConfigInput.optional(),
  /** Replaces the whole list; send the existing keys to keep them. */
  customParams: customParamsInput.optional(),
  /** Merged over the current settings. */
  statusQuery: statusQueryInput.optional(),
});
export type UpdateIntegrationInput = z.input<typeof updateIntegrationInput>;

export const rotateTokenInput = z.object({
  /** How long the previous token stays valid for API-2; default TOKEN_GRACE_HOURS (24). */
  graceHours: z
    .number()
    .min(0)
    .max(24 * 30)
    .optional(),
});

export const api1PreviewInput = z.object({
  paramConfig: paramConfigInput.optional(),
  customParams: customParamsInput.default([]),
  merchantId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "must be 32 lower-case hex characters")
    .optional(),
});
export type Api1PreviewInput = z.input<typeof api1PreviewInput>;

// ---- responses: every field listed, and never the token (except revealOut and rotateOut) ----

const paramSettingOut = z.object({ key: z.string(), enabled: z.boolean() });
const paramConfigOutShape = {} as Record<Api1ParamName, typeof paramSettingOut>;
for (const n of API1_PARAM_NAMES) paramConfigOutShape[n] = paramSettingOut;
export const paramConfigOut = z.object(paramConfigOutShape);

export const customParamOut = z.object({
  key: z.string(),
  label: z.string(),
  type: z.enum(CUSTOM_PARAM_TYPES),
  required: z.boolean(),
  options: z.array(z.string()).optional(),
  order: z.number(),
});

export const integrationOut = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  appUrl: z.string(),
  merchantId: z.string(),
  api1TimeoutMs: z.number(),
  amountPolicy: z.enum(AMOUNT_POLICIES),
  paramConfig: paramConfigOut,
  customParams: z.array(customParamOut),
  callbackUrl: z.string(),
  statusQuery: z.object({
    enabled: z.boolean(),
    /** The stored schedule, or the spec's default when none is stored. */
    scheduleSeconds: z.array(z.number()),
    timeoutMs: z.number(),
  }),
  tokenRotatedAt: z.number().nullable(),
  /** Until when API-2 still accepts the previous token; null when there is none. */
  previousTokenValidUntil: z.number().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type IntegrationView = z.output<typeof integrationOut>;

export const integrationListOut = z.object({ items: z.array(integrationOut) });

/** The one response that carries the token. */
export const revealOut = z.object({ merchantId: z.string(), token: z.string(), callbackUrl: z.string() });

export const rotateOut = z.object({
  token: z.string().describe("The new token, in this answer only; reveal it again later if needed"),
  tokenRotatedAt: z.number(),
  previousTokenValidUntil: z.number().nullable(),
});

export const api1PreviewOut = z.object({
  /** The API-1 JSON body exactly as the CRM would send it, `sign` included. */
  body: z.record(z.string(), z.union([z.string(), z.number()])),
  stringA: z.string(),
  sign: z.string(),
  /** The fixed, public sample token the preview signs with: never a real token. */
  sampleToken: z.string(),
});

export const impactOut = z.object({
  depositMethods: z
    .number()
    .int()
    .describe("Enabled deposit methods on the integration: hidden while it is off"),
  pendingOrders: z
    .number()
    .int()
    .describe("Open orders through it: their callbacks are refused while it is off"),
});
