import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import {
  breakerModeInput,
  breakerOut,
  closeBreakerByHand,
  getBreaker,
  setBreakerMode,
} from "./breaker-admin.js";

const BASE = "/api/admin/integrations/:id/breaker";
const idParams = z.object({ id: z.string().min(1).max(100) });
const tags = ["psp-integrations"];

/** The API-1 circuit breaker of an integration (docs/operations.md#api-1-circuit-breaker). */
export function breakerRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    BASE,
    {
      config: { access: { staff: "settings:read" } },
      schema: {
        tags,
        summary:
          "The integration's API-1 circuit breaker: mode, state, why and since when, recent transitions",
        params: idParams,
        response: { 200: breakerOut },
      },
    },
    async (req) => getBreaker(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.post(
    `${BASE}/close`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary: "Close the API-1 circuit breaker by hand (audited)",
        params: idParams,
        response: { 200: breakerOut },
      },
    },
    async (req) => closeBreakerByHand(ctx, adminActorOf(req), req.params.id),
  );

  r.put(
    `${BASE}/mode`,
    {
      config: { access: { staff: "settings:write" } },
      schema: {
        tags,
        summary:
          "Set the breaker's mode: on, dry_run (records what it would do, refuses nothing) or off (audited)",
        params: idParams,
        body: breakerModeInput,
        response: { 200: breakerOut },
      },
    },
    async (req) => setBreakerMode(ctx, adminActorOf(req), req.params.id, req.body),
  );
}
