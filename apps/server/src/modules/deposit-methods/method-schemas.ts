import { z } from "zod";
import { CUSTOM_PARAM_TYPES } from "../psp-integrations/integration-schemas.js";
import { currencyInput, currencyOut } from "./method-currencies.js";
import { DEFAULT_ORDER_TTL_SECONDS } from "./method-model.js";

/**
 * HTTP and use-case schemas of deposit methods: shapes and types. Rules that need the
 * integration or the whole list (field label keys, currency amounts, visibility groups) run in
 * the use-cases, whose issues carry plain paths such as `currencies.0.decimals`.
 */

export const MAX_CURRENCIES = 20;
export const MAX_FIELD_LABEL = 80;

const name = z.string().trim().min(1).max(120);
const integrationId = z.string().min(1).max(100);
const currencies = z.array(currencyInput).min(1).max(MAX_CURRENCIES);
const visibility = z.enum(["all", "groups"]);
const clientGroups = z.array(z.string().trim().min(1).max(64)).max(100);
/** customKey → label the client sees; keys must be custom parameters of the integration. */
const fieldLabels = z.record(z.string().max(200), z.string().max(200));
const orderTtlSeconds = z
  .number()
  .int()
  .min(60)
  .max(7 * 24 * 3600);
/** Another enabled method of the tenant, offered while this one's integration is unavailable; null: none. */
const fallbackMethodId = z.string().min(1).max(100).nullable();

export const createMethodInput = z.object({
  name,
  integrationId,
  enabled: z.boolean().default(true),
  currencies,
  visibility: visibility.default("all"),
  clientGroups: clientGroups.default([]),
  fieldLabels: fieldLabels.default({}),
  orderTtlSeconds: orderTtlSeconds.default(DEFAULT_ORDER_TTL_SECONDS),
  fallbackMethodId: fallbackMethodId.default(null),
});
export type CreateMethodInput = z.input<typeof createMethodInput>;

export const updateMethodInput = z.object({
  name: name.optional(),
  integrationId: integrationId.optional(),
  enabled: z.boolean().optional(),
  currencies: currencies.optional(),
  visibility: visibility.optional(),
  clientGroups: clientGroups.optional(),
  /** Replaces all labels; a key left out shows the integration's own label again. */
  fieldLabels: fieldLabels.optional(),
  orderTtlSeconds: orderTtlSeconds.optional(),
  fallbackMethodId: fallbackMethodId.optional(),
});
export type UpdateMethodInput = z.input<typeof updateMethodInput>;

export const reorderInput = z.object({ ids: z.array(z.string().min(1).max(100)).max(1000) });

export const depositFieldOut = z.object({
  key: z.string(),
  /** The label the client sees: the method's override, else the integration's. */
  label: z.string(),
  defaultLabel: z.string(),
  type: z.enum(CUSTOM_PARAM_TYPES),
  required: z.boolean(),
  options: z.array(z.string()).optional(),
  order: z.number(),
});

export const methodOut = z.object({
  id: z.string(),
  name: z.string(),
  integrationId: z.string(),
  integrationName: z.string(),
  enabled: z.boolean(),
  sortOrder: z.number(),
  currencies: z.array(currencyOut),
  visibility: visibility,
  clientGroups: z.array(z.string()),
  fieldLabels: z.record(z.string(), z.string()),
  fields: z.array(depositFieldOut),
  orderTtlSeconds: z.number(),
  fallbackMethodId: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type MethodView = z.output<typeof methodOut>;

export const methodListOut = z.object({ items: z.array(methodOut) });
