import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { clientOf, staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import { idempotencyHeaders } from "../deposits/deposit-schemas.js";
import { checkPayoutNow, markPayoutFailed, type PayoutDeps, startPayout } from "../payouts/payout-actions.js";
import { personOf } from "../users/api-keys.js";
import {
  approveWithdrawal,
  cancelWithdrawal,
  markWithdrawalPaid,
  rejectWithdrawal,
  type Staff,
} from "./decide-withdrawal.js";
import {
  createWithdrawalMethod,
  listWithdrawalMethods,
  reorderWithdrawalMethods,
  updateWithdrawalMethod,
  withdrawalMethodInput,
} from "./manage-withdrawal-methods.js";
import { requestWithdrawal } from "./request-withdrawal.js";
import {
  getClientWithdrawal,
  getWithdrawal,
  getWithdrawalMethod,
  listClientWithdrawals,
  listWithdrawals,
  portalWithdrawalMethods,
  withdrawalMethodView,
} from "./withdrawal-queries.js";
import {
  adminListQuery,
  clientWithdrawalOut,
  commentBody,
  markPaidBody,
  portalRequestBody,
  portalWithdrawalMethodOut,
  rejectBody,
  withdrawalDetailOut,
  withdrawalMethodOut,
  withdrawalSummaryOut,
} from "./withdrawal-schemas.js";

const METHODS = "/api/admin/withdrawal-methods";
const ADMIN = "/api/admin/withdrawals";
const PORTAL = "/api/portal/withdrawals";
const idParams = z.object({ id: z.string().min(1).max(100) });
const tags = ["withdrawals"];

/**
 * Withdrawals over HTTP (docs/withdrawals.md#http-routes): the back office's methods, approval
 * queue, decisions and payouts, and the portal's requests. Each route calls one use-case.
 */
export function withdrawalRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const deps: PayoutDeps = ctx;

  /** The deciding person: an API key decides as the user who issued it (four eyes). */
  const staff = async (req: FastifyRequest): Promise<Staff> => {
    const s = staffOf(req);
    const a = adminActorOf(req);
    return {
      tenantId: s.tenantId,
      staffId: await personOf(ctx.db, s),
      role: s.role,
      audit: a.audit,
      ip: a.ip,
    };
  };
  const detail = (req: FastifyRequest, id: string) => getWithdrawal(ctx, staffOf(req), id);

  // ------------------------------------------------------------------ methods (back office)
  r.get(
    METHODS,
    {
      config: { access: { staff: "methods:read" } },
      schema: {
        tags,
        summary: "The tenant's withdrawal methods in display order",
        response: { 200: z.object({ items: z.array(withdrawalMethodOut) }) },
      },
    },
    async (req) => ({
      items: (await listWithdrawalMethods(ctx, staffOf(req).tenantId)).map(withdrawalMethodView),
    }),
  );
  r.post(
    `${METHODS}/reorder`,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Set the display order: ids of all withdrawal methods, each once",
        body: z.object({ ids: z.array(z.string().min(1).max(100)).max(1000) }),
        response: { 200: z.object({ items: z.array(withdrawalMethodOut) }) },
      },
    },
    async (req) => ({
      items: (await reorderWithdrawalMethods(ctx, adminActorOf(req), req.body)).map(withdrawalMethodView),
    }),
  );
  r.get(
    `${METHODS}/:id`,
    {
      config: { access: { staff: "methods:read" } },
      schema: {
        tags,
        summary: "One withdrawal method",
        params: idParams,
        response: { 200: withdrawalMethodOut },
      },
    },
    async (req) => getWithdrawalMethod(ctx, staffOf(req).tenantId, req.params.id),
  );
  r.post(
    METHODS,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Create a withdrawal method",
        body: withdrawalMethodInput,
        response: { 201: withdrawalMethodOut },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(withdrawalMethodView(await createWithdrawalMethod(ctx, adminActorOf(req), req.body))),
  );
  r.put(
    `${METHODS}/:id`,
    {
      config: { access: { staff: "methods:write" } },
      schema: {
        tags,
        summary: "Replace a withdrawal method's settings (open requests keep their figures and levels)",
        params: idParams,
        body: withdrawalMethodInput,
        response: { 200: withdrawalMethodOut },
      },
    },
    async (req) =>
      withdrawalMethodView(await updateWithdrawalMethod(ctx, adminActorOf(req), req.params.id, req.body)),
  );

  // ------------------------------------------------------------------ the queue (back office)
  r.post(
    ADMIN,
    {
      config: { access: { staff: "withdrawals:pay" } },
      schema: {
        tags,
        summary:
          "Request a withdrawal on a client's behalf: the amount is held, and the person who requested it never approves it",
        description:
          "201: requested. 200: the idempotency key answered an earlier request. 409 insufficient_available_balance; " +
          "400 with field paths; 404 when the client or method does not exist.",
        headers: idempotencyHeaders,
        body: portalRequestBody.extend({ clientId: z.string().min(1).max(100) }),
        response: { 200: withdrawalDetailOut, 201: withdrawalDetailOut },
      },
    },
    async (req, reply) => {
      const s = staffOf(req);
      const { clientId, ...body } = req.body;
      const key = body.idempotencyKey ?? req.headers["idempotency-key"];
      const { id, created } = await requestWithdrawal(
        ctx,
        { tenantId: s.tenantId, clientId, staffId: await personOf(ctx.db, s) },
        { ...body, ...(key ? { idempotencyKey: key } : {}) },
      );
      return reply.status(created ? 201 : 200).send(await detail(req, id));
    },
  );
  r.get(
    ADMIN,
    {
      config: { access: { staff: "withdrawals:read" } },
      schema: {
        tags,
        summary: "Withdrawals, newest first: the approval queue with its filters and risk flags",
        querystring: adminListQuery,
        response: {
          200: z.object({ items: z.array(withdrawalSummaryOut), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (req) => listWithdrawals(ctx, staffOf(req).tenantId, req.query),
  );
  r.get(
    `${ADMIN}/:id`,
    {
      config: { access: { staff: "withdrawals:read" } },
      schema: {
        tags,
        summary:
          "One withdrawal: figures, fields, decisions, timeline, the client's recent activity, risk flags, and what you may do",
        params: idParams,
        response: { 200: withdrawalDetailOut },
      },
    },
    async (req) => detail(req, req.params.id),
  );

  const action = <B extends z.ZodType>(
    path: string,
    permission: "withdrawals:decide" | "withdrawals:pay",
    summary: string,
    body: B,
    run: (req: FastifyRequest, id: string, body: z.output<B>) => Promise<unknown>,
  ) =>
    r.post(
      `${ADMIN}/:id/${path}`,
      {
        config: { access: { staff: permission } },
        schema: { tags, summary, params: idParams, body, response: { 200: withdrawalDetailOut } },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        await run(req, id, req.body as z.output<B>);
        return detail(req, id);
      },
    );

  action(
    "approve",
    "withdrawals:decide",
    "Approve the next level (a different person per level; 403 own_request, already_decided_by_you, role_not_allowed; 409 decided_meanwhile)",
    commentBody,
    async (req, id, b) => approveWithdrawal(ctx, await staff(req), id, b.comment),
  );
  action(
    "reject",
    "withdrawals:decide",
    "Reject at the next level: the hold is released and the client is shown clientReason",
    rejectBody,
    async (req, id, b) => rejectWithdrawal(ctx, await staff(req), id, b),
  );
  action(
    "mark-paid",
    "withdrawals:pay",
    "Record a payout made outside psphub, with its reference: the hold becomes the debit once (409 withdrawal_already_paid)",
    markPaidBody,
    async (req, id, b) => markWithdrawalPaid(ctx, await staff(req), id, b.reference),
  );
  action(
    "start-payout",
    "withdrawals:pay",
    "Send an approved withdrawal to its integration (API-4)",
    z.object({}),
    async (req, id) => startPayout(deps, await staff(req), id),
  );
  action(
    "check-payout",
    "withdrawals:pay",
    "Ask the integration where the payout stands now (the payout status query, or API-4 again)",
    z.object({}),
    async (req, id) => checkPayoutNow(deps, await staff(req), id),
  );
  action(
    "mark-failed",
    "withdrawals:pay",
    "Close a payout that needs assistance as failed (also one whose failure kept the hold): the hold goes back to the client",
    commentBody,
    async (req, id, b) => markPayoutFailed(deps, await staff(req), id, b.comment),
  );

  // ------------------------------------------------------------------ portal
  r.get(
    "/api/portal/withdrawal-methods",
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "The withdrawal methods this client may use",
        response: { 200: z.object({ items: z.array(portalWithdrawalMethodOut) }) },
      },
    },
    async (req) => {
      const c = clientOf(req);
      return { items: await portalWithdrawalMethods(ctx, c.tenantId, c.id) };
    },
  );
  r.post(
    PORTAL,
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "Request a withdrawal: the amount is held at once",
        description:
          "201: requested, the amount held. 200: the idempotency key (header or body) answered an earlier request. " +
          "409 insufficient_available_balance (more than balance − held), 409 idempotency_key_reused; 400 with " +
          "field paths (amount, currency, fields.<key>); 404 when the method does not exist or is not visible.",
        headers: idempotencyHeaders,
        body: portalRequestBody,
        response: { 200: clientWithdrawalOut, 201: clientWithdrawalOut },
      },
    },
    async (req, reply) => {
      const c = clientOf(req);
      const key = req.body.idempotencyKey ?? req.headers["idempotency-key"];
      const { id, created } = await requestWithdrawal(
        ctx,
        { tenantId: c.tenantId, clientId: c.id },
        { ...req.body, ...(key ? { idempotencyKey: key } : {}) },
      );
      const view = await getClientWithdrawal(ctx, { tenantId: c.tenantId, clientId: c.id }, id);
      return reply.status(created ? 201 : 200).send(view);
    },
  );
  r.get(
    PORTAL,
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "The client's withdrawals, newest first",
        response: { 200: z.object({ items: z.array(clientWithdrawalOut) }) },
      },
    },
    async (req) => {
      const c = clientOf(req);
      return { items: await listClientWithdrawals(ctx, { tenantId: c.tenantId, clientId: c.id }) };
    },
  );
  r.get(
    `${PORTAL}/:id`,
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "One of the client's withdrawals",
        params: idParams,
        response: { 200: clientWithdrawalOut },
      },
    },
    async (req) => {
      const c = clientOf(req);
      return getClientWithdrawal(ctx, { tenantId: c.tenantId, clientId: c.id }, req.params.id);
    },
  );
  r.post(
    `${PORTAL}/:id/cancel`,
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary:
          "Cancel a withdrawal nobody has approved yet: the hold is released (409 withdrawal_not_cancellable)",
        params: idParams,
        response: { 200: clientWithdrawalOut },
      },
    },
    async (req) => {
      const c = clientOf(req);
      const who = { tenantId: c.tenantId, clientId: c.id };
      await cancelWithdrawal(ctx, who, req.params.id);
      return getClientWithdrawal(ctx, who, req.params.id);
    },
  );
}
