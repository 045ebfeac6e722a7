import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { AppError, RateLimitedError, ServiceBusyError } from "../common/errors.js";

/** The JSON error envelope of every back-office and portal route. */
export type ErrorBody = {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
};

/**
 * The one error handler: AppErrors map to their status, schema failures to 400 with field
 * paths, everything else to a 500 that says nothing about internals. The PSP callback route
 * answers in the API-2 envelope (docs/psp-open-api.md#api-2-answers) and never reaches this
 * handler with a thrown error.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (err instanceof AppError) {
      const body: ErrorBody = { error: { code: err.code, message: err.message } };
      if (err.details?.issues) body.error.issues = err.details.issues;
      // A full queue is load, not a fault: one short line, no stack (a burst writes one per request).
      if (err instanceof ServiceBusyError) request.log.warn({ code: err.code }, "busy, refused");
      else if (err.statusCode >= 500) request.log.error({ err }, "request failed");
      if (
        (err instanceof RateLimitedError || err instanceof ServiceBusyError) &&
        err.retryAfterSeconds !== undefined
      )
        reply.header("retry-after", String(err.retryAfterSeconds));
      return reply.status(err.statusCode).send(body);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => {
        const where = err.validationContext ?? "body";
        const path = v.instancePath.replace(/^\//, "").replaceAll("/", ".");
        return { path: path ? `${where}.${path}` : where, message: v.message ?? "is invalid" };
      });
      return reply.status(400).send({
        error: { code: "validation_failed", message: "The request is invalid", issues },
      } satisfies ErrorBody);
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err }, "response did not match its schema");
      return reply.status(500).send({ error: { code: "internal", message: "Internal error" } });
    }
    const fe = err as FastifyError;
    if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
      // Fastify's own client errors: bad JSON, body too large, unsupported media type.
      const code =
        fe.statusCode === 413
          ? "body_too_large"
          : fe.statusCode === 415
            ? "unsupported_media_type"
            : fe.statusCode === 429
              ? "rate_limited"
              : "bad_request";
      const message = fe.statusCode === 429 ? "Too many requests, try again later" : fe.message;
      return reply.status(fe.statusCode).send({ error: { code, message } } satisfies ErrorBody);
    }
    request.log.error({ err }, "unhandled error");
    return reply
      .status(500)
      .send({ error: { code: "internal", message: "Internal error" } } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: "route_not_found",
        message: `No route for ${request.method} ${request.url.split("?")[0]}`,
      },
    } satisfies ErrorBody);
  });
}
