import {
  CALLBACK_FIELDS,
  callbackErrorBody,
  PAYOUT_CALLBACK_FIELDS,
  PAYOUT_CALLBACK_PATH,
} from "@psphub/protocol";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { RequestTimeoutError } from "../../common/errors.js";
import { createPayoutCallbackHandler } from "../payouts/handle-payout-callback.js";
import { createFloodGuard } from "./callback-flood-log.js";
import { type CallbackBatching, createCallbackHandler, recordUnreadCallback } from "./handle-callback.js";

export const CALLBACK_PATH = "/api/psp/pay/callback";
/** API-5 (docs/psp-open-api.md#api-5): CRM_Callback_URL + /payout/callback. */
export const PAYOUT_CALLBACK_ROUTE = `/api/psp${PAYOUT_CALLBACK_PATH}`;

const errorEnvelope = z
  .object({
    error: z.literal(true),
    code: z.number().int(),
    type: z.string(),
    detail: z
      .string()
      .optional()
      .describe("ours: a short human reason (which check, and what in the body); `type` is the contract"),
  })
  .describe("The PSP Open API's error envelope: `code` is the HTTP status, `type` the check that failed");

// The request as the OpenAPI document shows it. The route reads the raw body itself (the
// signature is over the bytes sent) and never validates against these: see `documentOnly`.
const callbackHeaders = z.object({
  "crm-pay-token": z
    .string()
    .describe("the integration's token (current, or previous during its grace period)"),
});
const flatBody = (fields: typeof CALLBACK_FIELDS) =>
  z
    .looseObject(
      Object.fromEntries(
        fields.map((f) => {
          const type =
            f.type === "number"
              ? z.number().describe(`${f.meaning} (decimal text in a form body)`)
              : z.string().describe(f.meaning);
          return [f.key, f.required ? type : type.optional()];
        }),
      ),
    )
    .describe(
      "Flat key/value pairs, as JSON or as a form; further keys are allowed and signed. `sign` is over every other key.",
    );
const callbackBody = flatBody(CALLBACK_FIELDS);
const payoutCallbackBody = flatBody(PAYOUT_CALLBACK_FIELDS);
/** A validator that accepts anything unchanged: the callback's schemas are documentation only. */
const documentOnly = () => () => true;

/** Our answer when storage fails: the tenant backend retries 5xx (never for any input). */
const INTERNAL = callbackErrorBody("internal_error");

/** Why Fastify refused a body before the handler read it (its status), in words. */
function unreadDetail(status: number, bodyLimit: number): string {
  if (status === 413) return `the body is larger than ${bodyLimit} bytes`;
  if (status === 408) return "the body did not arrive in time";
  if (status === 415) return "the content type must be application/json or application/x-www-form-urlencoded";
  return "the request could not be read (content length or encoding)";
}

/**
 * How callbacks are grouped into transactions: on SQLite one batch at a time (one writer); on
 * PostgreSQL two (one can be written while the next is read; more lanes only made each batch
 * smaller and every callback slower in bench B1, where the cost is the round trips of a batch,
 * not its size), or one with a pool of under 4 connections.
 */
function callbackBatching(ctx: AppContext): CallbackBatching {
  const db = ctx.config.database;
  return {
    maxBatch: 128,
    concurrency: db.kind === "postgres" ? Math.min(2, Math.max(1, Math.floor(db.poolSize / 2))) : 1,
  };
}

/**
 * API-2 `POST /api/psp/pay/callback` in its own encapsulated plugin: its content-type parsers
 * (every body as raw text, so the signature is checked against the bytes sent) and its error
 * handler (the API-2 `{"error":true,"code":…,"type":…}` envelope, never the back-office one:
 * docs/psp-open-api.md#api-2-answers) apply to this route only.
 */
export async function callbackRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    const bodyLimit = ctx.config.callbackBodyLimit;
    const flood = createFloodGuard(ctx);
    scope.addHook("onClose", () => flood.close());
    const handleCallback = createCallbackHandler(ctx, callbackBatching(ctx), flood);
    const handlePayoutCallback = createPayoutCallbackHandler(ctx, flood);
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_req, body, done) => done(null, body));

    const facts = (req: FastifyRequest) => ({
      contentType: typeof req.headers["content-type"] === "string" ? req.headers["content-type"] : undefined,
      remoteAddr: req.ip ?? null,
    });

    // Fastify's own refusals before the handler (body too large, bad content type or length),
    // and a body that did not arrive in time (http/request-timeouts.ts).
    scope.setErrorHandler(async (err: FastifyError, req, reply) => {
      const status = typeof err.statusCode === "number" ? err.statusCode : 500;
      const unread = err.code?.startsWith("FST_") || err instanceof RequestTimeoutError;
      if (unread && status >= 400 && status < 500) {
        const type = status === 413 ? "request_too_large" : "request_malformed";
        const detail = unreadDetail(status, bodyLimit);
        // As unauthenticated as a bad token: the same flood limits (the body was never read).
        const { contentType, remoteAddr } = facts(req);
        const retryAfter = flood.refuse({
          remoteAddr,
          contentType,
          rawBody: undefined,
          errorType: type,
          integration: null,
        });
        if (retryAfter !== null) {
          ctx.metrics.callbacks.inc({ verdict: "throttled", type });
          return reply
            .status(429)
            .header("retry-after", String(retryAfter))
            .send({ ...callbackErrorBody(type), code: 429 });
        }
        try {
          await recordUnreadCallback(ctx, facts(req), type, detail);
        } catch (logErr) {
          req.log.error({ err: logErr }, "could not record a refused API-2 callback");
        }
        if (status === 408) return reply.status(408).send({ ...callbackErrorBody(type, detail), code: 408 });
        return reply.status(status === 413 ? 413 : 400).send(callbackErrorBody(type, detail));
      }
      req.log.error({ err }, "API-2 callback failed");
      return reply.status(500).send(INTERNAL);
    });

    const routes = [
      {
        path: CALLBACK_PATH,
        handle: handleCallback,
        summary: "API-2 payment callback (PSP Open API): JSON or form body, signed, header crm-pay-token",
        checks:
          "body → merchant_id → crm-pay-token → sign → order_no → deposit method → currency → amount → status",
        body: callbackBody,
      },
      {
        path: PAYOUT_CALLBACK_ROUTE,
        handle: handlePayoutCallback,
        summary: "API-5 payout callback (ours, docs/psp-open-api.md#api-5): API-2's shape with payout_no",
        checks:
          "body → merchant_id → crm-pay-token → sign → payout_no → currency → amount (exactly the payout's) → status",
        body: payoutCallbackBody,
      },
    ];
    for (const route of routes)
      scope.post(
        route.path,
        {
          bodyLimit,
          // A machine-to-machine endpoint answering 204 or a small JSON error: browser security
          // headers (CSP, frame options…) protect nothing here, and setting them was a measurable
          // part of each callback's cost (bench B1 profile).
          config: { access: "public", securityHeaders: false },
          validatorCompiler: documentOnly,
          schema: {
            tags: ["psp"],
            summary: route.summary,
            description:
              `Checks in order: ${route.checks}. Answers 204 with no body, or 400/413 with ` +
              '`{"error": true, "code": 400, "type": "<type>"}`. Requests refused before the token ' +
              "matched (body, merchant_id, token) are rate-limited per source address and per merchant: " +
              "over the limit they are answered 429 with Retry-After and the type of the check that failed, " +
              "and are counted rather than logged. A request whose token matches is never throttled. " +
              "500 internal_error when storage failed: send the callback again.",
            headers: callbackHeaders,
            body: route.body,
            consumes: ["application/json", "application/x-www-form-urlencoded"],
            response: {
              204: z.null().describe("Applied, duplicate or held: no body"),
              400: errorEnvelope.describe("Refused: `type` names the check that failed"),
              408: errorEnvelope.describe("The body did not arrive in time"),
              413: errorEnvelope.describe("The body is larger than CALLBACK_BODY_LIMIT_BYTES"),
              429: errorEnvelope.describe("Too many refused callbacks from this address or merchant").meta({
                headers: {
                  "retry-after": { type: "integer", description: "seconds to wait before sending again" },
                },
              }),
              500: errorEnvelope.describe("Storage failed: nothing was applied; send the callback again"),
            },
          },
        },
        async (req, reply) => {
          const answer = await route.handle({
            ...facts(req),
            rawBody: typeof req.body === "string" ? req.body : undefined,
            token: req.headers["crm-pay-token"],
          });
          if (answer.httpStatus === 204) return reply.status(204).send();
          if (answer.httpStatus === 429) {
            return reply
              .status(429)
              .header("retry-after", String(answer.retryAfterSeconds))
              .send({ ...callbackErrorBody(answer.type), code: 429 });
          }
          return reply.status(answer.httpStatus).send(callbackErrorBody(answer.type, answer.detail));
        },
      );
  });
}
