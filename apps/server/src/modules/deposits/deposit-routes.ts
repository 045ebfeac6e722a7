import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { RateLimitedError } from "../../common/errors.js";
import { CLIENT_COOKIE, clientOf, staffOf } from "../../http/access.js";
import { csvResponse, sendCsv } from "../../http/csv-export.js";
import { sha256Hex } from "../../infra/crypto/hashing.js";
import { parseSort } from "../../infra/db/list-order.js";
import { createGuardedClient, type GuardedClient } from "../../infra/http-out/guarded-client.js";
import { isLivePortalSession } from "../platform/tenant-suspension.js";
import { cancelDeposit } from "./cancel-deposit.js";
import { createDeposit, type DepositActor } from "./create-deposit.js";
import { exportDeposits } from "./deposit-export.js";
import {
  getAdminDeposit,
  getClientDeposit,
  listAdminDeposits,
  listClientDeposits,
  listPortalMethods,
  portalViewOf,
} from "./deposit-queries.js";
import {
  adminCreateBody,
  adminCreateResult,
  adminDeposit,
  adminDepositDetail,
  adminExportQuery,
  adminListQuery,
  idempotencyHeaders,
  page,
  portalCreateBody,
  portalCreateResult,
  portalDeposit,
  portalMethod,
} from "./deposit-schemas.js";
import { createDepositHttpStatus, isSettledForClient } from "./deposit-view.js";

export type DepositRoutesOptions = {
  /** Outbound client for API-1 (tests inject one); default: built from config.allowPrivateAppUrls. */
  httpOut?: GuardedClient;
  /** Live status stream: poll interval and cap (defaults 1 s and 10 min). */
  streamPollMs?: number;
  streamMaxMs?: number;
};

const STREAM_POLL_MS = 1_000;
const STREAM_MAX_MS = 10 * 60_000;

const orderNoParams = z.object({ orderNo: z.string().min(1).max(64) });
const idParams = z.object({ id: z.string().min(1).max(64) });

/** Deposit routes with injectable dependencies; `depositRoutes` is the production instance. */
export function depositRoutesWith(opts: DepositRoutesOptions = {}) {
  return function depositRoutes(app: FastifyInstance, ctx: AppContext): void {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const httpOut = opts.httpOut ?? createGuardedClient({ allowPrivate: ctx.config.allowPrivateAppUrls });
    if (!opts.httpOut) app.addHook("onClose", () => httpOut.close());
    const deps = { ...ctx, httpOut };

    // ---------------------------------------------------------------- portal
    r.get(
      "/api/portal/deposit-methods",
      {
        config: { access: "client" },
        schema: {
          tags: ["portal"],
          summary:
            "Deposit methods this client may use now, in display order, with currencies, limits, fees and fields",
          response: { 200: z.object({ items: z.array(portalMethod) }) },
        },
      },
      async (req) => {
        const c = clientOf(req);
        return { items: await listPortalMethods(ctx, { tenantId: c.tenantId, clientId: c.id }) };
      },
    );

    r.post(
      "/api/portal/deposits",
      {
        config: {
          access: "client",
          // Every new order calls the tenant backend: bound how fast one client can make them.
          rateLimit: {
            max: ctx.config.depositRateLimitPerMinute,
            timeWindow: 60_000,
            hook: "preHandler",
            keyGenerator: (req) => `deposit:${req.client?.id ?? req.ip}`,
          },
        },
        schema: {
          tags: ["portal"],
          summary: "Create a deposit order and get its payment URL (API-1)",
          description:
            "201: created (status pending with paymentUrl). 200: the Idempotency-Key answered an earlier order. " +
            "502: the order was created but the payment provider gave no payment page; it is `failed` and " +
            "`error.reason` says why (api1_declined: the provider refused, `error.message` its own words or null; " +
            "api1_unavailable: anything else, no text). 409 idempotency_key_reused; 409 method_changed when " +
            "the method was deleted or its decimals changed while the order was being made (nothing created: send again). 400 with field paths " +
            "(amount, currency, fields.<key>, methodId when the method is disabled). 404 when the method does not " +
            "exist or is not visible to this client.",
          headers: idempotencyHeaders,
          body: portalCreateBody,
          response: { 200: portalCreateResult, 201: portalCreateResult, 502: portalCreateResult },
        },
      },
      async (req, reply) => {
        const c = clientOf(req);
        const view = await createDeposit(
          deps,
          { kind: "client", tenantId: c.tenantId, clientId: c.id },
          { ...req.body, idempotencyKey: req.headers["idempotency-key"] },
        );
        return reply.status(createDepositHttpStatus(view)).send(view);
      },
    );

    r.get(
      "/api/portal/deposits",
      {
        config: { access: "client" },
        schema: {
          tags: ["portal"],
          summary: "The client's own deposits, newest first",
          querystring: z.object(page),
          response: { 200: z.object({ items: z.array(portalDeposit), total: z.number().int() }) },
        },
      },
      async (req) => {
        const c = clientOf(req);
        return listClientDeposits(ctx, { tenantId: c.tenantId, clientId: c.id }, req.query);
      },
    );

    r.get(
      "/api/portal/deposits/:orderNo",
      {
        config: { access: "client" },
        schema: {
          tags: ["portal"],
          summary: "One of the client's deposits",
          params: orderNoParams,
          response: { 200: portalDeposit },
        },
      },
      async (req) => {
        const c = clientOf(req);
        return getClientDeposit(ctx, { tenantId: c.tenantId, clientId: c.id }, req.params.orderNo);
      },
    );

    const streams = new Set<() => void>();
    const sessions = ctx.sessionReader;
    app.addHook("preClose", async () => {
      for (const stop of streams) stop();
    });
    r.get(
      "/api/portal/deposits/:orderNo/events",
      {
        config: { access: "client" },
        schema: {
          tags: ["portal"],
          summary: "Live status of one deposit as server-sent events",
          description:
            "text/event-stream. Every ~1 s an `event: status` whose data is the deposit (same shape as " +
            "GET /api/portal/deposits/:orderNo). Once the deposit succeeded or failed with no payment under " +
            "review, the stream sends it, then `event: end` (data {reason: 'final'}), and closes; a cancelled or " +
            "expired deposit stays watched (a payment page opened before may still be paid, and that payment " +
            "goes to review: `underReview`). After 10 minutes it sends `event: end` with " +
            "{reason: 'timeout'} and closes (reconnect to continue). When the session ends (logout, expiry) " +
            "it sends `event: end` with {reason: 'session_ended'} and closes. A session holds at most " +
            "PORTAL_STREAMS_PER_SESSION streams at once (per server process); one more is refused with 429.",
          params: orderNoParams,
        },
      },
      async (req, reply) => {
        const c = clientOf(req);
        const actor = { tenantId: c.tenantId, clientId: c.id };
        let view = await getClientDeposit(ctx, actor, req.params.orderNo); // 404 before the stream starts
        // Capped per session, and ended with the session (session-streams.ts).
        const sessionHash = sha256Hex(req.cookies[CLIENT_COOKIE] ?? "");
        let sessionEnded = false;
        let wake: (() => void) | undefined;
        const slot = ctx.sessionStreams.open(sessionHash, () => {
          sessionEnded = true;
          wake?.();
        });
        if (!slot) throw new RateLimitedError("Too many live status streams for this session");
        // A session of a company the platform operator suspended has ended too.
        const sessionLive = async () =>
          !sessionEnded && isLivePortalSession(await sessions.findLive(sessionHash, ctx.clock.now()));
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
          connection: "keep-alive",
          "x-accel-buffering": "no",
          "x-content-type-options": "nosniff",
        });
        let open = true;
        const stop = () => {
          open = false;
          wake?.();
        };
        streams.add(stop);
        raw.on("close", stop);
        if (raw.destroyed) stop(); // gone while the deposit was read: never holds a place
        const send = (event: string, data: unknown) => {
          if (open) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        const pollMs = opts.streamPollMs ?? STREAM_POLL_MS;
        const deadline = Date.now() + (opts.streamMaxMs ?? STREAM_MAX_MS);
        try {
          raw.write(`retry: ${pollMs * 3}\n\n`);
          while (open) {
            send("status", view);
            if (isSettledForClient(view)) {
              send("end", { reason: "final" });
              break;
            }
            if (Date.now() >= deadline) {
              send("end", { reason: "timeout" });
              break;
            }
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, pollMs);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            });
            wake = undefined;
            if (!open) break;
            if (!(await sessionLive())) {
              send("end", { reason: "session_ended" });
              break;
            }
            view = await getClientDeposit(ctx, actor, req.params.orderNo);
          }
        } catch (err) {
          req.log.warn({ err }, "deposit status stream stopped");
        } finally {
          streams.delete(stop);
          slot.release();
          raw.end();
        }
      },
    );

    r.post(
      "/api/portal/deposits/:orderNo/cancel",
      {
        config: { access: "client" },
        schema: {
          tags: ["portal"],
          summary:
            "Cancel one of the client's open deposits (pending or processing); 409 deposit_final when already " +
            "final, 409 deposit_under_review while a payment for it is being checked",
          params: orderNoParams,
          response: { 200: portalDeposit },
        },
      },
      async (req) => {
        const c = clientOf(req);
        const row = await cancelDeposit(
          ctx,
          { kind: "client", tenantId: c.tenantId, clientId: c.id },
          { orderNo: req.params.orderNo },
        );
        return portalViewOf(ctx.db, row);
      },
    );

    // ---------------------------------------------------------------- back office
    const staffActor = (req: Parameters<typeof staffOf>[0]): DepositActor & { kind: "staff" } => {
      const s = staffOf(req);
      return { kind: "staff", tenantId: s.tenantId, actorType: s.kind, actorId: s.id };
    };

    r.post(
      "/api/admin/deposits",
      {
        config: { access: { staff: "deposits:create" } },
        schema: {
          tags: ["deposits"],
          summary: "Create a deposit on a client's behalf (same rules and answers as the portal)",
          headers: idempotencyHeaders,
          body: adminCreateBody,
          response: { 200: adminCreateResult, 201: adminCreateResult, 502: adminCreateResult },
        },
      },
      async (req, reply) => {
        const view = await createDeposit(deps, staffActor(req), {
          ...req.body,
          idempotencyKey: req.headers["idempotency-key"],
        });
        return reply.status(createDepositHttpStatus(view)).send(view);
      },
    );

    r.get(
      "/api/admin/deposits",
      {
        config: { access: { staff: "deposits:read" } },
        schema: {
          tags: ["deposits"],
          summary: "The tenant's deposits with filters, sorted over the whole list (newest first by default)",
          querystring: adminListQuery,
          response: { 200: z.object({ items: z.array(adminDeposit), total: z.number().int() }) },
        },
      },
      async (req) => {
        const { limit, offset, sort, ...filters } = req.query;
        return listAdminDeposits(ctx, staffOf(req).tenantId, filters, { limit, offset }, parseSort(sort));
      },
    );

    r.get(
      "/api/admin/deposits/export.csv",
      {
        config: { access: { staff: "deposits:read" } },
        schema: {
          tags: ["deposits"],
          summary: "Every deposit the list's filters match, in its order, as CSV (streamed)",
          description:
            "text/csv; charset=utf-8, an attachment. RFC 4180; amounts as decimal text, times ISO 8601 UTC; " +
            "a cell that a spreadsheet would run as a formula starts with an apostrophe.",
          querystring: adminExportQuery,
          produces: ["text/csv"],
          response: csvResponse,
        },
      },
      async (req, reply) => {
        const { sort, ...filters } = req.query;
        const body = exportDeposits(ctx, staffOf(req).tenantId, filters, parseSort(sort));
        return sendCsv(reply, "deposits", ctx.clock.now(), body);
      },
    );

    r.get(
      "/api/admin/deposits/:id",
      {
        config: { access: { staff: "deposits:read" } },
        schema: {
          tags: ["deposits"],
          summary: "One deposit with its timeline, ledger credit and callback logs",
          params: idParams,
          response: { 200: adminDepositDetail },
        },
      },
      async (req) => getAdminDeposit(ctx, staffOf(req).tenantId, req.params.id),
    );

    r.post(
      "/api/admin/deposits/:id/cancel",
      {
        config: { access: { staff: "deposits:resolve" } },
        schema: {
          tags: ["deposits"],
          summary: "Cancel an open deposit (pending or processing); 409 when already final. Audited.",
          params: idParams,
          body: z.object({ comment: z.string().max(500).optional() }).nullish(),
          response: { 200: adminDepositDetail },
        },
      },
      async (req) => {
        const actor = staffActor(req);
        await cancelDeposit(ctx, actor, { id: req.params.id }, { comment: req.body?.comment, ip: req.ip });
        return getAdminDeposit(ctx, actor.tenantId, req.params.id);
      },
    );
  };
}

export const depositRoutes = depositRoutesWith();
