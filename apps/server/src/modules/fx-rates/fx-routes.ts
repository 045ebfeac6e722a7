import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import {
  createdSourceOut,
  createSourceInput,
  fxSourceListOut,
  keyOut,
  manualRateListOut,
  manualRateOut,
  pairParams,
  rateInput,
  sourceOut,
  testInput,
  testOut,
  updateSourceInput,
} from "./fx-source-schemas.js";
import {
  createFxSource,
  deleteFxSource,
  deleteManualRate,
  listFxSources,
  listManualRates,
  regenerateFxSourceKey,
  setManualRate,
  updateFxSource,
} from "./manage-fx-sources.js";
import { testFxSource } from "./test-fx-source.js";

const BASE = "/api/admin/fx/sources";
const idParams = z.object({ id: z.string().min(1).max(100) });
const tags = ["fx-rates"];

/** Rate sources: manual tables and external exchange-rate APIs (docs/psp-open-api.md#exchange-rate-api-ours). */
export function fxRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    BASE,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary: "List the tenant's exchange-rate sources",
        response: { 200: fxSourceListOut },
      },
    },
    async (req) => ({ items: await listFxSources(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    BASE,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Create a rate source; an external one's generated key is in this answer only",
        body: createSourceInput,
        response: { 201: createdSourceOut },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return reply.status(201).send(await createFxSource(ctx, adminActorOf(req), req.body));
    },
  );

  r.put(
    `${BASE}/:id`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Change a rate source (not its kind)",
        params: idParams,
        body: updateSourceInput,
        response: { 200: sourceOut },
      },
    },
    async (req) => updateFxSource(ctx, adminActorOf(req), req.params.id, req.body),
  );

  r.delete(
    `${BASE}/:id`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Delete a rate source; refused (409 fx_source_in_use) while a deposit method uses it",
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await deleteFxSource(ctx, adminActorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );

  r.post(
    `${BASE}/:id/key`,
    {
      config: { access: { staff: "settings:rotate" } },
      schema: {
        tags,
        summary:
          "Generate a new key for an external source; the old one stops at once, the answer shows the new one once",
        params: idParams,
        response: { 200: keyOut },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return regenerateFxSourceKey(ctx, adminActorOf(req), req.params.id);
    },
  );

  r.post(
    `${BASE}/:id/test`,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary: "Ask the source for a rate now (the Test button); 200 with ok true or false",
        params: idParams,
        body: testInput,
        response: { 200: testOut },
      },
    },
    async (req) => testFxSource(ctx, staffOf(req).tenantId, req.params.id, req.body),
  );

  r.get(
    `${BASE}/:id/rates`,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary: "A manual source's rates",
        params: idParams,
        response: { 200: manualRateListOut },
      },
    },
    async (req) => ({ items: await listManualRates(ctx, staffOf(req).tenantId, req.params.id) }),
  );

  r.put(
    `${BASE}/:id/rates/:from/:to`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Set a manual source's rate and markup for a pair",
        params: pairParams,
        body: rateInput,
        response: { 200: manualRateOut },
      },
    },
    async (req) =>
      setManualRate(
        ctx,
        adminActorOf(req),
        req.params.id,
        { from: req.params.from, to: req.params.to },
        req.body,
      ),
  );

  r.delete(
    `${BASE}/:id/rates/:from/:to`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Remove a manual source's pair",
        params: pairParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await deleteManualRate(ctx, adminActorOf(req), req.params.id, {
        from: req.params.from,
        to: req.params.to,
      });
      return reply.status(204).send(null);
    },
  );
}
