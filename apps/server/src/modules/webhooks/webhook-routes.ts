import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import { getDelivery, listDeliveries, replayDelivery } from "./delivery-log.js";
import {
  attemptOut,
  createEndpointInput,
  deliveriesQuery,
  deliveryOut,
  enableInput,
  endpointOut,
  replayInput,
  replayOut,
  rotateInput,
  updateEndpointInput,
} from "./endpoint-schemas.js";
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  sendTestEvent,
  updateEndpoint,
} from "./manage-endpoints.js";
import { listReplays, replayRange } from "./replay-tasks.js";
import { WEBHOOK_EVENT_TYPES } from "./webhook-event-types.js";

const BASE = "/api/admin/webhooks";
const idParams = z.object({ id: z.string().min(1).max(100) });
const eventParams = z.object({ id: z.string().min(1).max(100), eventId: z.string().min(1).max(100) });
const tags = ["webhooks"];
const read = { access: { staff: "settings:read" as const } };
const write = { access: { staff: "settings:write" as const } };

/** Outbound webhooks: endpoints, their delivery log, replay and recovery (docs/webhooks.md). */
export function webhookRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    `${BASE}/event-types`,
    {
      config: read,
      schema: {
        tags,
        summary: "Every event type an endpoint can subscribe to",
        response: {
          200: z.object({ items: z.array(z.object({ type: z.string(), description: z.string() })) }),
        },
      },
    },
    async () => ({ items: WEBHOOK_EVENT_TYPES.map((t) => ({ ...t })) }),
  );

  r.get(
    `${BASE}/endpoints`,
    {
      config: read,
      schema: {
        tags,
        summary: "List the tenant's webhook endpoints",
        response: { 200: z.object({ items: z.array(endpointOut) }) },
      },
    },
    async (req) => ({ items: await listEndpoints(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    `${BASE}/endpoints`,
    {
      config: write,
      schema: {
        tags,
        summary: "Create an endpoint; its secret is in this answer only",
        body: createEndpointInput,
        response: { 201: z.object({ endpoint: endpointOut, secret: z.string() }) },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return reply.status(201).send(await createEndpoint(ctx, adminActorOf(req), req.body));
    },
  );

  r.get(
    `${BASE}/endpoints/:id`,
    {
      config: read,
      schema: {
        tags,
        summary: "One endpoint with its figures",
        params: idParams,
        response: { 200: endpointOut },
      },
    },
    async (req) => getEndpoint(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.put(
    `${BASE}/endpoints/:id`,
    {
      config: write,
      schema: {
        tags,
        summary: "Change an endpoint's URL, description or event types",
        params: idParams,
        body: updateEndpointInput,
        response: { 200: endpointOut },
      },
    },
    async (req) => updateEndpoint(ctx, adminActorOf(req), req.params.id, req.body),
  );

  r.delete(
    `${BASE}/endpoints/:id`,
    {
      config: write,
      schema: {
        tags,
        summary: "Delete an endpoint (its log is kept; pending deliveries are given up)",
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await deleteEndpoint(ctx, adminActorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );

  r.post(
    `${BASE}/endpoints/:id/disable`,
    {
      config: write,
      schema: {
        tags,
        summary: "Stop sending to an endpoint",
        params: idParams,
        response: { 200: endpointOut },
      },
    },
    async (req) => disableEndpoint(ctx, adminActorOf(req), req.params.id),
  );

  r.post(
    `${BASE}/endpoints/:id/enable`,
    {
      config: write,
      schema: {
        tags,
        summary: "Enable an endpoint; with recover, every event since it began failing is sent again",
        params: idParams,
        body: enableInput,
        response: { 200: z.object({ endpoint: endpointOut, replay: replayOut.nullable() }) },
      },
    },
    async (req) => enableEndpoint(ctx, adminActorOf(req), req.params.id, req.body),
  );

  r.post(
    `${BASE}/endpoints/:id/rotate`,
    {
      config: { access: { staff: "settings:rotate" } },
      schema: {
        tags,
        summary: "A new secret; the previous one keeps signing beside it for the overlap (default 24 h)",
        params: idParams,
        body: rotateInput,
        response: { 200: z.object({ secret: z.string(), previousExpiresAt: z.number().nullable() }) },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return rotateEndpointSecret(ctx, adminActorOf(req), req.params.id, req.body);
    },
  );

  r.post(
    `${BASE}/endpoints/:id/test`,
    {
      config: write,
      schema: {
        tags,
        summary: "Send a webhook.test event to this endpoint",
        params: idParams,
        response: { 202: z.object({ eventId: z.string() }) },
      },
    },
    async (req, reply) => reply.status(202).send(await sendTestEvent(ctx, adminActorOf(req), req.params.id)),
  );

  r.get(
    `${BASE}/endpoints/:id/deliveries`,
    {
      config: read,
      schema: {
        tags,
        summary: "The endpoint's deliveries, newest first, filtered by event type, status and order",
        params: idParams,
        querystring: deliveriesQuery,
        response: { 200: z.object({ items: z.array(deliveryOut), total: z.number() }) },
      },
    },
    async (req) => listDeliveries(ctx.db, staffOf(req).tenantId, req.params.id, req.query),
  );

  r.get(
    `${BASE}/endpoints/:id/deliveries/:eventId`,
    {
      config: read,
      schema: {
        tags,
        summary: "One delivery: the exact body and every attempt (headers, answer, latency)",
        params: eventParams,
        response: {
          200: z.object({ delivery: deliveryOut, body: z.string(), attempts: z.array(attemptOut) }),
        },
      },
    },
    async (req) => getDelivery(ctx.db, staffOf(req).tenantId, req.params.id, req.params.eventId),
  );

  r.post(
    `${BASE}/endpoints/:id/deliveries/:eventId/replay`,
    {
      config: write,
      schema: {
        tags,
        summary: "Send one event to this endpoint again",
        params: eventParams,
        response: { 200: deliveryOut },
      },
    },
    async (req) => replayDelivery(ctx, adminActorOf(req), req.params.id, req.params.eventId),
  );

  r.post(
    `${BASE}/endpoints/:id/replays`,
    {
      config: write,
      schema: {
        tags,
        summary: "Replay a time range to this endpoint, in the background",
        params: idParams,
        body: replayInput,
        response: { 202: replayOut },
      },
    },
    async (req, reply) =>
      reply.status(202).send(await replayRange(ctx, adminActorOf(req), req.params.id, req.body)),
  );

  r.get(
    `${BASE}/endpoints/:id/replays`,
    {
      config: read,
      schema: {
        tags,
        summary: "The endpoint's replay and recovery tasks with their progress",
        params: idParams,
        response: { 200: z.object({ items: z.array(replayOut) }) },
      },
    },
    async (req) => ({ items: await listReplays(ctx.db, staffOf(req).tenantId, req.params.id) }),
  );
}
