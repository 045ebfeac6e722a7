import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import { createIntegration } from "./create-integration.js";
import { integrationImpact } from "./integration-impact.js";
import {
  api1PreviewInput,
  api1PreviewOut,
  createIntegrationInput,
  impactOut,
  integrationListOut,
  integrationOut,
  revealOut,
  rotateOut,
  rotateTokenInput,
  updateIntegrationInput,
} from "./integration-schemas.js";
import { getIntegration, listIntegrations } from "./list-integrations.js";
import { previewApi1 } from "./preview-api1.js";
import { revealIntegration } from "./reveal-integration.js";
import { rotateToken } from "./rotate-token.js";
import { setIntegrationEnabled, updateIntegration } from "./update-integration.js";

const BASE = "/api/admin/integrations";
const idParams = z.object({ id: z.string().min(1).max(100) });
const tags = ["psp-integrations"];

/**
 * PSP Settings (docs/psp-open-api.md#psp-settings). No response but reveal and the rotation's
 * ever carries the token.
 */
export function integrationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    BASE,
    {
      config: { access: { staff: "settings:read" } },
      schema: { tags, summary: "List the tenant's PSP integrations", response: { 200: integrationListOut } },
    },
    async (req) => ({ items: await listIntegrations(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    `${BASE}/api1-preview`,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary: "The API-1 body, StringA and sign a parameter configuration produces for a sample order",
        description: "Signed with a fixed public sample token, never a real one.",
        body: api1PreviewInput,
        response: { 200: api1PreviewOut },
      },
    },
    async (req) => previewApi1(req.body),
  );

  r.get(
    `${BASE}/:id`,
    {
      config: { access: { staff: "settings:read" } },
      schema: { tags, summary: "One PSP integration", params: idParams, response: { 200: integrationOut } },
    },
    async (req) => getIntegration(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.get(
    `${BASE}/:id/impact`,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary: "What disabling the integration affects: its enabled deposit methods and open orders",
        params: idParams,
        response: { 200: impactOut },
      },
    },
    async (req) => integrationImpact(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.post(
    BASE,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Create a PSP integration (merchant_id and token are generated)",
        body: createIntegrationInput,
        response: { 201: integrationOut },
      },
    },
    async (req, reply) => reply.status(201).send(await createIntegration(ctx, adminActorOf(req), req.body)),
  );

  r.patch(
    `${BASE}/:id`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Change a PSP integration (paramConfig merges, customParams replaces)",
        params: idParams,
        body: updateIntegrationInput,
        response: { 200: integrationOut },
      },
    },
    async (req) => updateIntegration(ctx, adminActorOf(req), req.params.id, req.body),
  );

  for (const [action, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    r.post(
      `${BASE}/:id/${action}`,
      {
        config: { access: { staff: "settings:write" } },
        schema: {
          tags,
          summary: `${enabled ? "Enable" : "Disable"} a PSP integration`,
          params: idParams,
          response: { 200: integrationOut },
        },
      },
      async (req) => setIntegrationEnabled(ctx, adminActorOf(req), req.params.id, enabled),
    );
  }

  r.post(
    `${BASE}/:id/reveal`,
    {
      config: { access: { staff: "settings:reveal" } },
      schema: {
        tags,
        summary: "Reveal merchant_id, token and CRM_Callback_URL (audited)",
        params: idParams,
        response: { 200: revealOut },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return revealIntegration(ctx, adminActorOf(req), req.params.id);
    },
  );

  r.post(
    `${BASE}/:id/rotate-token`,
    {
      config: { access: { staff: "settings:rotate" } },
      schema: {
        tags,
        summary:
          "Rotate the token; the answer shows the new one once, the previous one stays valid for API-2 during the grace period",
        params: idParams,
        body: rotateTokenInput.nullish(),
        response: { 200: rotateOut },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return rotateToken(ctx, adminActorOf(req), req.params.id, req.body ?? {});
    },
  );
}
