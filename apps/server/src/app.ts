import cookie from "@fastify/cookie";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import type { AppContext } from "./app-context.js";
import { registerAccessControl } from "./http/access.js";
import { registerErrorHandling } from "./http/error-handler.js";
import { opsRoutes } from "./http/ops-routes.js";
import { registerBodyTimeout, serverTimeoutOptions } from "./http/request-timeouts.js";
import { registerSecurityHeaders } from "./http/security-headers.js";
import { webRoutes } from "./http/web-routes.js";
import { breakerRoutes } from "./modules/api1-breaker/breaker-routes.js";
import { auditRoutes } from "./modules/audit/audit-routes.js";
import { authRoutes } from "./modules/auth/auth-routes.js";
import { callbackLogRoutes } from "./modules/callbacks/callback-log-routes.js";
import { callbackRoutes } from "./modules/callbacks/callback-routes.js";
import { certifyRoutes } from "./modules/certify/certify-routes.js";
import { clientRoutes } from "./modules/clients/client-routes.js";
import { dashboardRoutes } from "./modules/dashboard/dashboard-routes.js";
import { methodRoutes } from "./modules/deposit-methods/method-routes.js";
import { depositRoutes } from "./modules/deposits/deposit-routes.js";
import { manualResolutionRoutes } from "./modules/deposits/manual-resolution-routes.js";
import { quoteRoutes } from "./modules/fx-quotes/quote-routes.js";
import { fxRoutes } from "./modules/fx-rates/fx-routes.js";
import { healthRoutes } from "./modules/integration-health/health-routes.js";
import { platformRoutes } from "./modules/platform/platform-routes.js";
import { integrationRoutes } from "./modules/psp-integrations/integration-routes.js";
import { reviewRoutes } from "./modules/review/review-routes.js";
import { fourEyesRoutes } from "./modules/tenants/four-eyes-settings.js";
import { userRoutes } from "./modules/users/user-routes.js";
import { webhookRoutes } from "./modules/webhooks/webhook-routes.js";
import { withdrawalRoutes } from "./modules/withdrawals/withdrawal-routes.js";

export type ModuleRoutes = (app: FastifyInstance, ctx: AppContext) => void | Promise<void>;

/** Route modules, one per capability. Each registers its own routes with declared access. */
const MODULES: ModuleRoutes[] = [
  opsRoutes,
  authRoutes,
  clientRoutes,
  userRoutes,
  auditRoutes,
  integrationRoutes,
  certifyRoutes,
  breakerRoutes,
  methodRoutes,
  depositRoutes,
  quoteRoutes,
  callbackRoutes,
  callbackLogRoutes,
  reviewRoutes,
  fourEyesRoutes,
  manualResolutionRoutes,
  healthRoutes,
  dashboardRoutes,
  fxRoutes,
  webhookRoutes,
  withdrawalRoutes,
  platformRoutes,
  webRoutes,
];

/**
 * Builds the whole HTTP app around an AppContext. It never listens: main.ts does, and tests
 * call `app.inject`.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 256 * 1024,
    genReqId: () => crypto.randomUUID(),
    // Slow-drip headers and bodies are cut; answers are never limited.
    ...serverTimeoutOptions(ctx.config),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  registerBodyTimeout(app, ctx.config.bodyTimeoutMs);

  await app.register(cookie);
  registerSecurityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // Only ask browsers to upgrade requests when the deployment is served over https;
        // on plain http (a LAN demo) it would break every asset load.
        upgradeInsecureRequests: ctx.config.cookieSecure ? [] : null,
      },
    },
  });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: {
        title: "psphub",
        description:
          "Back-office, client-portal and PSP Open API (API-2 callback) endpoints of psphub. " +
          "Back-office routes take a session cookie plus the x-csrf-token header on writes, or an API key " +
          "as `Authorization: Bearer psk_…`.",
        version: "0.1.0",
      },
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "psphub_session" },
          apiKey: { type: "http", scheme: "bearer" },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  registerAccessControl(app, ctx);

  for (const mod of MODULES) await mod(app, ctx);
  return app;
}
