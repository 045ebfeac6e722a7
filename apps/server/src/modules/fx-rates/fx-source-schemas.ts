import { MAX_MARKUP_BPS } from "@psphub/protocol";
import { z } from "zod";
import { currencyInput } from "../deposit-methods/method-currencies.js";

/** Rate sources at the HTTP edge (docs/psp-open-api.md#exchange-rate-api-ours): rates are decimal text. */

/** The deposit methods' currency-code rule, so every code a method accepts can have a rate. */
export const currencyCode = currencyInput.shape.code;

const name = z.string().trim().min(1, "A name is required").max(100, "At most 100 characters");
const ttlSeconds = z.number().int().min(10).max(86_400);
const timeoutMs = z.number().int().min(100).max(15_000);

export const DEFAULT_TIMEOUT_MS = 3_000;
export const DEFAULT_EXTERNAL_TTL_SECONDS = 300;

export const manualSourceInput = z.object({
  kind: z.literal("manual"),
  name,
  ttlSeconds: ttlSeconds.nullable().optional(),
});
export const externalSourceInput = z.object({
  kind: z.literal("external"),
  name,
  url: z.string().min(1).max(2_000),
  timeoutMs: timeoutMs.optional(),
  ttlSeconds: ttlSeconds.optional(),
});
export const createSourceInput = z.discriminatedUnion("kind", [manualSourceInput, externalSourceInput]);
export type CreateSourceInput = z.output<typeof createSourceInput>;

/** PUT: the kind never changes; the fields of the source's own kind are read. */
export const updateSourceInput = z.object({
  name,
  url: z.string().min(1).max(2_000).optional(),
  timeoutMs: timeoutMs.optional(),
  ttlSeconds: ttlSeconds.nullable().optional(),
});
export type UpdateSourceInput = z.output<typeof updateSourceInput>;

export const rateInput = z.object({
  rate: z.string().min(1).max(40),
  markupBps: z.number().int().min(0).max(MAX_MARKUP_BPS),
});
export type RateInput = z.output<typeof rateInput>;

export const pairParams = z.object({ id: z.string().min(1).max(100), from: currencyCode, to: currencyCode });

export const testInput = z.object({ from: currencyCode, to: currencyCode });

export const fxSourceOut = z.object({
  id: z.string(),
  kind: z.enum(["manual", "external"]),
  name: z.string(),
  url: z.string().nullable(),
  keyLast4: z.string().nullable(),
  timeoutMs: z.number(),
  ttlSeconds: z.number().nullable(),
  pairs: z.number(),
  alert: z.object({ id: z.string(), openedAt: z.number() }).nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type FxSourceView = z.output<typeof fxSourceOut>;

export const fxSourceListOut = z.object({ items: z.array(fxSourceOut) });
export const createdSourceOut = z.object({ source: fxSourceOut, key: z.string().nullable() });
export const sourceOut = z.object({ source: fxSourceOut });
export const keyOut = z.object({ key: z.string() });

export const manualRateOut = z.object({
  from: z.string(),
  to: z.string(),
  rate: z.string(),
  markupBps: z.number(),
  updatedAt: z.number(),
  updatedBy: z.string().nullable(),
});
export type ManualRateView = z.output<typeof manualRateOut>;
export const manualRateListOut = z.object({ items: z.array(manualRateOut) });

export const testOut = z.union([
  z.object({ ok: z.literal(true), rate: z.string(), rateTime: z.number(), latencyMs: z.number() }),
  z.object({ ok: z.literal(false), reason: z.string(), message: z.string(), latencyMs: z.number() }),
]);
