import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { clientOf, staffOf } from "../../http/access.js";
import { csvResponse, sendCsv } from "../../http/csv-export.js";
import { parseSort, sortParam } from "../../infra/db/list-order.js";
import { auditActorOf } from "../audit/audit-repo.js";
import { resetClientPassword, setClientDisabled } from "./client-access.js";
import { checkLedger, clientLedger, clientWallets, getClient, listClients } from "./client-queries.js";
import { CLIENT_SORT_COLUMNS } from "./client-repo.js";
import { createClient, createClientInput } from "./create-client.js";
import { exportClientLedger } from "./ledger-export.js";
import { updateClient, updateClientInput } from "./update-client.js";

const clientOut = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  nationality: z.string().nullable(),
  language: z.string().nullable(),
  group: z.string().nullable(),
  portalAccess: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.number(),
});
const walletOut = z.object({
  id: z.string(),
  currency: z.string(),
  balance: z.string(),
  balanceMinor: z.string(),
  held: z.string().describe("what open withdrawals hold"),
  available: z.string().describe("balance − held: what the client may withdraw"),
  createdAt: z.number(),
});
const ledgerEntryOut = z.object({
  id: z.string(),
  walletId: z.string(),
  currency: z.string(),
  amount: z.string(),
  kind: z
    .enum(["deposit", "adjustment", "withdrawal_hold", "withdrawal_release", "withdrawal_debit"])
    .describe(
      "withdrawal_hold and withdrawal_release move the held amount (available = balance − held), the rest the balance",
    ),
  depositId: z.string().nullable(),
  memo: z.string().nullable(),
  createdAt: z.number(),
  fx: z
    .object({ paymentAmount: z.string(), paymentCurrency: z.string(), rate: z.string() })
    .nullable()
    .describe("a deposit credited through a quote: the amount paid, its currency, the rate after the markup"),
});
const ledgerPage = z.object({ items: z.array(ledgerEntryOut), total: z.number() });
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  offset: z.coerce.number().int().min(0).default(0),
});
const idParams = z.object({ id: z.string().min(1).max(64) });

/** Back-office clients, wallets and ledgers, and the portal's own wallets and ledger. */
export function clientRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/admin/clients",
    {
      config: { access: { staff: "clients:read" } },
      schema: {
        tags: ["clients"],
        summary: "Search clients (name, email or id), sorted over the whole list (newest first by default)",
        querystring: pageQuery.extend({
          q: z.string().trim().max(120).optional(),
          group: z.string().trim().min(1).max(60).optional(),
          sort: sortParam(CLIENT_SORT_COLUMNS, "created_at:desc"),
        }),
        response: { 200: z.object({ items: z.array(clientOut), total: z.number() }) },
      },
    },
    async (req) => listClients(ctx, staffOf(req).tenantId, { ...req.query, sort: parseSort(req.query.sort) }),
  );

  r.post(
    "/api/admin/clients",
    {
      config: { access: { staff: "clients:write" } },
      schema: {
        tags: ["clients"],
        summary: "Create a client (a password opens the client portal)",
        body: createClientInput,
        response: { 201: clientOut },
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      const client = await createClient(ctx, actor.tenantId, req.body, auditActorOf(actor), req.ip);
      return reply.status(201).send(client);
    },
  );

  r.get(
    "/api/admin/clients/:id",
    {
      config: { access: { staff: "clients:read" } },
      schema: {
        tags: ["clients"],
        summary: "A client with its wallets",
        params: idParams,
        response: { 200: clientOut.extend({ wallets: z.array(walletOut) }) },
      },
    },
    async (req) => getClient(ctx, staffOf(req).tenantId, req.params.id),
  );

  r.patch(
    "/api/admin/clients/:id",
    {
      config: { access: { staff: "clients:write" } },
      schema: {
        tags: ["clients"],
        summary:
          "Edit a client's details; null clears a field (the password and disabling have their own routes)",
        params: idParams,
        body: updateClientInput,
        response: { 200: clientOut },
      },
    },
    async (req) => {
      const actor = staffOf(req);
      return updateClient(ctx, actor.tenantId, req.params.id, req.body, auditActorOf(actor), req.ip);
    },
  );

  r.post(
    "/api/admin/clients/:id/reset-password",
    {
      config: { access: { staff: "clients:access" } },
      schema: {
        tags: ["clients"],
        summary:
          "Give the client a new generated portal password, shown in this answer only; the client's portal sessions end",
        params: idParams,
        response: { 200: z.object({ client: clientOut, password: z.string() }) },
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      reply.header("cache-control", "no-store");
      return resetClientPassword(ctx, actor.tenantId, req.params.id, auditActorOf(actor), req.ip);
    },
  );

  for (const [action, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    r.post(
      `/api/admin/clients/:id/${action}`,
      {
        config: { access: { staff: "clients:access" } },
        schema: {
          tags: ["clients"],
          summary: disabled
            ? "Disable a client: no portal login, its sessions end; wallets and deposits stay"
            : "Enable a disabled client again",
          params: idParams,
          response: { 200: clientOut },
        },
      },
      async (req) => {
        const actor = staffOf(req);
        return setClientDisabled(ctx, actor.tenantId, req.params.id, disabled, auditActorOf(actor), req.ip);
      },
    );
  }

  r.get(
    "/api/admin/clients/:id/ledger",
    {
      config: { access: { staff: "clients:read" } },
      schema: {
        tags: ["clients"],
        summary: "A client's ledger entries, newest first",
        params: idParams,
        querystring: pageQuery,
        response: { 200: ledgerPage },
      },
    },
    async (req) => clientLedger(ctx, staffOf(req).tenantId, req.params.id, req.query),
  );

  r.get(
    "/api/admin/clients/:id/ledger/export.csv",
    {
      config: { access: { staff: "clients:read" } },
      schema: {
        tags: ["clients"],
        summary: "A client's whole ledger, newest first, as CSV (streamed)",
        description:
          "text/csv; charset=utf-8, an attachment. RFC 4180; amounts as decimal text, times ISO 8601 UTC; " +
          "a cell that a spreadsheet would run as a formula starts with an apostrophe.",
        params: idParams,
        produces: ["text/csv"],
        response: csvResponse,
      },
    },
    async (req, reply) => {
      const body = await exportClientLedger(ctx, staffOf(req).tenantId, req.params.id);
      return sendCsv(reply, `ledger-${req.params.id}`, ctx.clock.now(), body);
    },
  );

  r.get(
    "/api/admin/ledger/check",
    {
      config: { access: { staff: "clients:read" } },
      schema: {
        tags: ["clients"],
        summary:
          "Check that every wallet balance equals the sum of its ledger entries (and its held amount the sum of its holds), each in the wallet's exponent",
        response: {
          200: z.object({
            ok: z.boolean(),
            mismatches: z.array(
              z.object({
                walletId: z.string(),
                balanceMinor: z.string(),
                ledgerSumMinor: z.string(),
                heldMinor: z.string(),
                holdSumMinor: z.string(),
              }),
            ),
            /** Wallets with entries counted in another exponent than the wallet's. */
            exponentMismatches: z.array(
              z.object({
                walletId: z.string(),
                clientId: z.string(),
                currency: z.string(),
                decimals: z.number(),
                entries: z.array(z.object({ decimals: z.number(), count: z.number() })),
              }),
            ),
          }),
        },
      },
    },
    async (req) => checkLedger(ctx, staffOf(req).tenantId),
  );

  r.get(
    "/api/portal/wallets",
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "The logged-in client's wallets",
        response: {
          200: z.object({
            items: z.array(
              z.object({
                currency: z.string(),
                balance: z.string(),
                balanceMinor: z.string(),
                held: z.string().describe("what open withdrawals hold"),
                available: z.string().describe("balance − held: what the client may withdraw"),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const me = clientOf(req);
      return { items: await clientWallets(ctx, me.tenantId, me.id) };
    },
  );

  r.get(
    "/api/portal/ledger",
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "The logged-in client's ledger entries, newest first",
        querystring: pageQuery,
        response: { 200: ledgerPage },
      },
    },
    async (req) => {
      const me = clientOf(req);
      return clientLedger(ctx, me.tenantId, me.id, req.query);
    },
  );
}
