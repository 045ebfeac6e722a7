import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { UnauthenticatedError } from "../../common/errors.js";
import { OPERATOR_COOKIE } from "../../http/access.js";
import { loginLimitsOf, reserveLoginAttempt } from "../auth/login-throttle.js";
import { createTenant, createTenantInput } from "../tenants/create-tenant.js";
import { operatorActorOf } from "./operator-actor.js";
import { loginOperator, logoutOperator, operatorSession } from "./operator-auth.js";
import {
  listOperatorAudit,
  listTenants,
  listUnroutedCallbacks,
  tenantHealth,
  UNROUTED_SOURCES_MAX,
  unroutedBySource,
} from "./platform-queries.js";
import { resumeTenant, suspendTenant } from "./tenant-suspension.js";

const operatorMe = z.object({ id: z.string(), email: z.string(), name: z.string() });
const sessionOut = z.object({ me: operatorMe, csrfToken: z.string(), expiresAt: z.number() });
const probeOut = z.discriminatedUnion("authenticated", [
  z.object({ authenticated: z.literal(false) }),
  z.object({ authenticated: z.literal(true), me: operatorMe, csrfToken: z.string(), expiresAt: z.number() }),
]);
const page = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const idParams = z.object({ id: z.string().min(1).max(64) });
const reasonBody = z.object({ reason: z.string().trim().min(1).max(500) });
const counts = <T extends [string, ...string[]]>(keys: T) => z.partialRecord(z.enum(keys), z.number());
const window = z.object({
  deposits: counts(["pending", "processing", "succeeded", "failed", "expired", "cancelled"]),
  callbacks: counts(["accepted", "duplicate", "rejected", "review"]),
});
const tenantSummary = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  createdAt: z.number(),
  suspendedAt: z.number().nullable(),
  suspensionReason: z.string().nullable(),
  integrations: z.number(),
  integrationsEnabled: z.number(),
  depositsToday: z.number(),
});

/**
 * The platform operator's API (`/api/platform/*`): its own login, session and CSRF (access
 * "operator"), tenants, their health tiles, unrouted callbacks and its own audit trail.
 */
export function platformRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["platform"];
  const limits = loginLimitsOf(ctx.config);

  r.post(
    "/api/platform/auth/login",
    {
      config: { access: "public" },
      schema: {
        tags,
        summary: "Platform operator login; sets the operator cookie and returns the CSRF token",
        body: z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(200) }),
        response: { 200: sessionOut },
      },
    },
    async (req, reply) => {
      // The staff logins' throttle (login-throttle.ts), counters of their own account scope.
      const attempt = await reserveLoginAttempt(
        ctx.db,
        limits,
        ctx.clock.now(),
        req.ip,
        `operator:${req.body.email}`,
      );
      const giveBack = () =>
        attempt.release().catch((err) => ctx.logger.warn({ err }, "could not give back a login attempt"));
      let result: Awaited<ReturnType<typeof loginOperator>>;
      try {
        result = await loginOperator(ctx, req.body);
      } catch (err) {
        if (!(err instanceof UnauthenticatedError)) await giveBack();
        throw err;
      }
      await giveBack();
      reply.setCookie(OPERATOR_COOKIE, result.session.secret, {
        httpOnly: true,
        sameSite: "lax",
        secure: ctx.config.cookieSecure,
        path: "/",
        expires: new Date(result.session.expiresAt),
      });
      return { me: result.me, csrfToken: result.session.csrfToken, expiresAt: result.session.expiresAt };
    },
  );

  r.get(
    "/api/platform/auth/session",
    {
      config: { access: "public" },
      schema: {
        tags,
        summary: "The operator session, if any: 200 either way (the console's start-up probe)",
        response: { 200: probeOut },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      const s = await operatorSession(ctx, req.cookies[OPERATOR_COOKIE]);
      return s ? { authenticated: true as const, ...s } : { authenticated: false as const };
    },
  );

  r.get(
    "/api/platform/auth/me",
    {
      config: { access: "operator" },
      schema: { tags, summary: "The logged-in operator", response: { 200: sessionOut } },
    },
    async (req) => {
      const s = await operatorSession(ctx, req.cookies[OPERATOR_COOKIE]);
      if (!s) throw new UnauthenticatedError();
      return s;
    },
  );

  r.post(
    "/api/platform/auth/logout",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary: "End the operator session",
        response: { 204: z.null().describe("Logged out: no body") },
      },
    },
    async (req, reply) => {
      await logoutOperator(ctx.db, req.cookies[OPERATOR_COOKIE]);
      reply.clearCookie(OPERATOR_COOKIE, { path: "/" });
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/platform/tenants",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary: "Every tenant with its status and counts (aggregates only)",
        response: { 200: z.object({ items: z.array(tenantSummary) }) },
      },
    },
    async () => ({ items: await listTenants(ctx) }),
  );

  r.post(
    "/api/platform/tenants",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary: "Create a tenant with its first owner (audited against the new tenant)",
        body: createTenantInput,
        response: { 201: z.object({ tenantId: z.string(), ownerId: z.string(), slug: z.string() }) },
      },
    },
    async (req, reply) => {
      const actor = operatorActorOf(req);
      const created = await createTenant(ctx, req.body, { type: "operator", id: actor.id }, actor.ip);
      return reply.status(201).send(created);
    },
  );

  for (const [verb, run] of [
    ["suspend", suspendTenant],
    ["resume", resumeTenant],
  ] as const) {
    r.post(
      `/api/platform/tenants/:id/${verb}`,
      {
        config: { access: "operator" },
        schema: {
          tags,
          summary:
            verb === "suspend"
              ? "Suspend a tenant: its portal and deposit creation stop, its callbacks are still applied (reason required, audited)"
              : "Resume a suspended tenant (reason required, audited)",
          params: idParams,
          body: reasonBody,
          response: { 204: z.null().describe("Done: no body") },
        },
      },
      async (req, reply) => {
        await run(ctx, operatorActorOf(req), req.params.id, req.body);
        return reply.status(204).send(null);
      },
    );
  }

  r.get(
    "/api/platform/tenants/:id/health",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary:
          "A tenant's health tiles: integrations (last hour's API-1 and callback figures, breaker, open alerts), deposits and callbacks in the last hour and 24 h, open review items",
        params: idParams,
        response: {
          200: z.object({
            tenant: z.object({
              id: z.string(),
              slug: z.string(),
              name: z.string(),
              suspendedAt: z.number().nullable(),
            }),
            integrations: z.array(z.object({ id: z.string(), name: z.string(), enabled: z.boolean() })),
            lastHour: window,
            last24h: window,
            openReviewItems: z.number(),
            integrationHealth: z
              .array(
                z.object({
                  integrationId: z.string(),
                  breaker: z.enum(["closed", "open", "half_open"]),
                  api1Calls: z.number(),
                  api1SuccessRate: z.number().nullable(),
                  api1P95Ms: z.number().nullable(),
                  callbacks: z.number(),
                  signatureFailures: z.number(),
                  openAlerts: z.number(),
                }),
              )
              .describe(
                "Per integration: the last hour's API-1 and callback figures, breaker state, open alerts",
              ),
          }),
        },
      },
    },
    async (req) => tenantHealth(ctx, req.params.id),
  );

  r.get(
    "/api/platform/callbacks/unrouted",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary:
          "Callbacks no tenant could be found for (unknown merchant_id, unreadable body), newest first",
        querystring: page,
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                merchantId: z.string().nullable(),
                orderNo: z.string().nullable(),
                contentType: z.string().nullable(),
                body: z.string(),
                verdict: z.enum(["accepted", "duplicate", "rejected", "review"]),
                errorType: z.string().nullable(),
                errorDetail: z.string().nullable(),
                httpStatus: z.number(),
                remoteAddr: z.string().nullable(),
                requestCount: z.number(),
                createdAt: z.number(),
              }),
            ),
            total: z.number(),
          }),
        },
      },
    },
    async (req) => listUnroutedCallbacks(ctx, req.query),
  );

  r.get(
    "/api/platform/callbacks/unrouted/sources",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary: `Unrouted callbacks of the last 24 h counted per source address, the busiest first (at most ${UNROUTED_SOURCES_MAX})`,
        response: {
          200: z.object({
            since: z.number(),
            sources: z.array(
              z.object({
                remoteAddr: z.string().nullable(),
                requests: z.number().describe("requests, throttled ones included"),
                errorTypes: z.array(z.string()).describe("the error types seen, most frequent first"),
                lastAt: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async () => unroutedBySource(ctx, 24 * 60 * 60 * 1000),
  );

  r.get(
    "/api/platform/audit",
    {
      config: { access: "operator" },
      schema: {
        tags,
        summary: "What platform operators did, across tenants, newest first",
        querystring: page,
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                tenant: z.object({
                  id: z.string(),
                  slug: z.string().nullable(),
                  name: z.string().nullable(),
                }),
                operator: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
                action: z.string(),
                before: z.unknown(),
                after: z.unknown(),
                ip: z.string().nullable(),
                createdAt: z.number(),
              }),
            ),
            total: z.number(),
          }),
        },
      },
    },
    async (req) => listOperatorAudit(ctx, req.query),
  );
}
