import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import { createMethod } from "./create-method.js";
import { deleteMethod } from "./delete-method.js";
import { getMethod, listMethods } from "./list-methods.js";
import {
  createMethodInput,
  methodListOut,
  methodOut,
  reorderInput,
  updateMethodInput,
} from "./method-schemas.js";
import { reorderMethods } from "./reorder-methods.js";
import { setMethodEnabled, updateMethod } from "./update-method.js";

const BASE = "/api/admin/deposit-methods";
const idParams = z.object({ id: z.string().min(1).max(100) });
const tags = ["deposit-methods"];

/** Deposit methods (docs/psp-open-api.md#deposit-methods): amounts as decimal text, fields derived live. */
export function methodRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    BASE,
    {
      config: { access: { staff: "methods:read" } },
      schema: {
        tags,
        summary: "The tenant's deposit methods in display order, with their deposit fields",
        response: { 200: methodListOut },
      },
    },
    async (req) => ({ items: await listMethods(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    `${BASE}/reorder`,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Set the display order: ids of all methods, each once",
        body: reorderInput,
        response: { 200: methodListOut },
      },
    },
    async (req) => ({ items: await reorderMethods(ctx, adminActorOf(req), req.body) }),
  );

  r.get(
    `${BASE}/:id`,
    {
      config: { access: { staff: "methods:read" } },
      schema: { tags, summary: "One deposit method", params: idParams, response: { 200: methodOut } },
    },
    async (req) => getMethod(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.post(
    BASE,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Create a deposit method",
        body: createMethodInput,
        response: { 201: methodOut },
      },
    },
    async (req, reply) => reply.status(201).send(await createMethod(ctx, adminActorOf(req), req.body)),
  );

  r.patch(
    `${BASE}/:id`,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Change a deposit method (lists are replaced as a whole)",
        params: idParams,
        body: updateMethodInput,
        response: { 200: methodOut },
      },
    },
    async (req) => updateMethod(ctx, adminActorOf(req), req.params.id, req.body),
  );

  r.delete(
    `${BASE}/:id`,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Delete a deposit method (refused with method_in_use while deposits are open)",
        params: idParams,
        response: { 204: z.null().describe("Deleted: no body") },
      },
    },
    async (req, reply) => {
      await deleteMethod(ctx, adminActorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );

  for (const [action, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    r.post(
      `${BASE}/:id/${action}`,
      {
        config: { access: { staff: "methods:write" } },
        schema: {
          tags,
          summary: `${enabled ? "Enable" : "Disable"} a deposit method`,
          params: idParams,
          response: { 200: methodOut },
        },
      },
      async (req) => setMethodEnabled(ctx, adminActorOf(req), req.params.id, enabled),
    );
  }
}
