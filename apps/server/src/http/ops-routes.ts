import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../app-context.js";
import { UnauthenticatedError } from "../common/errors.js";
import { safeEqual, sha256Hex } from "../infra/crypto/hashing.js";
import { dialectOf, pingDatabase } from "../infra/db/database.js";

/**
 * Liveness, readiness (checks the database), Prometheus metrics and the OpenAPI document; and
 * the part of graceful shutdown that fastify leaves out (registered first, so on every route).
 */
export function opsRoutes(app: FastifyInstance, ctx: AppContext): void {
  // On close(), fastify stops accepting connections, closes the idle ones and answers requests
  // that arrive meanwhile with 503 and `Connection: close`. A request already in flight is
  // answered normally, but its keep-alive connection then stays open until the keep-alive
  // timeout (72 s), and close() waits for it. Ending those connections with their answer lets
  // shutdown finish as soon as the last request in flight has been answered.
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  // With METRICS_TOKEN, /metrics (counts of every tenant) answers only its bearer. The digests
  // are compared, so the comparison takes the same time whatever the header's length.
  const metricsAuthorization = ctx.config.metricsToken
    ? sha256Hex(`Bearer ${ctx.config.metricsToken}`)
    : null;

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/healthz",
    {
      config: { access: "public" },
      logLevel: "warn",
      schema: {
        tags: ["ops"],
        summary: "Liveness",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );
  r.get(
    "/readyz",
    {
      config: { access: "public" },
      logLevel: "warn",
      schema: {
        tags: ["ops"],
        summary: "Readiness: answers 503 when the database cannot be reached",
        response: {
          200: z.object({ status: z.literal("ready"), database: z.string() }),
          503: z.object({ status: z.literal("unavailable"), database: z.string() }),
        },
      },
    },
    async (_req, reply) => {
      try {
        await pingDatabase(ctx.db);
        return { status: "ready" as const, database: dialectOf(ctx.db) };
      } catch {
        return reply.status(503).send({ status: "unavailable" as const, database: dialectOf(ctx.db) });
      }
    },
  );
  r.get(
    "/metrics",
    {
      config: { access: "public" },
      logLevel: "warn",
      schema: {
        tags: ["ops"],
        summary:
          "Prometheus metrics (with METRICS_TOKEN set: only for `Authorization: Bearer <METRICS_TOKEN>`)",
      },
    },
    async (req, reply) => {
      if (
        metricsAuthorization !== null &&
        !safeEqual(sha256Hex(req.headers.authorization ?? ""), metricsAuthorization)
      ) {
        reply.header("www-authenticate", "Bearer");
        throw new UnauthenticatedError("/metrics needs Authorization: Bearer <METRICS_TOKEN>");
      }
      reply.header("content-type", ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
  r.get(
    "/openapi.json",
    { config: { access: "public" }, schema: { tags: ["ops"], summary: "This API's OpenAPI document" } },
    async () => app.swagger(),
  );
}
