import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "./webhook-event-types.js";

const TYPES = WEBHOOK_EVENT_TYPES.map((t) => t.type) as [string, ...string[]];
/** `*` (every type) or known types; an unknown type is refused rather than never matching. */
const eventTypes = z
  .array(z.enum(["*", ...TYPES] as [string, ...string[]]))
  .min(1)
  .max(TYPES.length + 1);

export const createEndpointInput = z.object({
  url: z.string().trim().min(1).max(2000),
  description: z.string().trim().max(200).default(""),
  eventTypes: eventTypes.default(["*"]),
  enabled: z.boolean().default(true),
});
export type CreateEndpointInput = z.input<typeof createEndpointInput>;

export const updateEndpointInput = z.object({
  url: z.string().trim().min(1).max(2000).optional(),
  description: z.string().trim().max(200).optional(),
  eventTypes: eventTypes.optional(),
});
export type UpdateEndpointInput = z.input<typeof updateEndpointInput>;

export const enableInput = z.object({ recover: z.boolean().default(false) });
export const rotateInput = z.object({ overlapHours: z.number().int().min(0).max(72).default(24) });
export const replayInput = z
  .object({
    from: z.number().int().min(0),
    to: z.number().int().min(0),
    eventType: z.enum(TYPES).optional(),
    onlyFailed: z.boolean().default(false),
  })
  .refine((r) => r.from < r.to, { message: "from must be before to", path: ["from"] });

export const deliveryStatus = z.enum(["pending", "delivered", "failed"]);
export const deliveriesQuery = z.object({
  type: z.enum(TYPES).optional(),
  status: deliveryStatus.optional(),
  orderNo: z.string().trim().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const headers = z.record(z.string(), z.string());
export const attemptOut = z.object({
  id: z.string(),
  eventId: z.string(),
  type: z.string(),
  attempt: z.number(),
  requestHeaders: headers,
  responseStatus: z.number().nullable(),
  responseHeaders: headers.nullable(),
  responseBody: z.string().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number(),
  createdAt: z.number(),
});
export type AttemptView = z.infer<typeof attemptOut>;

export const endpointOut = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.enum(["manual", "gone", "failing"]).nullable(),
  disabledAt: z.number().nullable(),
  failingSince: z.number().nullable(),
  lastSuccessAt: z.number().nullable(),
  previousSecretExpiresAt: z.number().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  stats: z.object({
    attempts24h: z.number(),
    succeeded24h: z.number(),
    successRate24h: z.number().nullable(),
    pending: z.number(),
    failed: z.number(),
    nextRetryAt: z.number().nullable(),
  }),
  lastAttempts: z.array(attemptOut),
});
export type EndpointView = z.infer<typeof endpointOut>;

export const deliveryOut = z.object({
  id: z.string(),
  eventId: z.string(),
  endpointId: z.string(),
  type: z.string(),
  orderNo: z.string().nullable(),
  sequence: z.number().nullable(),
  status: deliveryStatus,
  attempts: z.number(),
  nextAttemptAt: z.number().nullable(),
  lastAttemptAt: z.number().nullable(),
  lastHttpStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.number().nullable(),
  createdAt: z.number(),
});
export type DeliveryView = z.infer<typeof deliveryOut>;

export const replayOut = z.object({
  id: z.string(),
  endpointId: z.string(),
  kind: z.enum(["replay", "recover"]),
  from: z.number(),
  to: z.number(),
  eventType: z.string().nullable(),
  onlyFailed: z.boolean(),
  state: z.enum(["running", "done", "failed"]),
  total: z.number(),
  done: z.number(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type ReplayView = z.infer<typeof replayOut>;

export const depositWebhookOut = z.object({
  eventId: z.string(),
  type: z.string(),
  sequence: z.number().nullable(),
  createdAt: z.number(),
  endpointId: z.string(),
  endpointUrl: z.string(),
  status: deliveryStatus,
  attempts: z.number(),
  lastHttpStatus: z.number().nullable(),
  deliveredAt: z.number().nullable(),
  nextAttemptAt: z.number().nullable(),
});
export type DepositWebhookView = z.infer<typeof depositWebhookOut>;
