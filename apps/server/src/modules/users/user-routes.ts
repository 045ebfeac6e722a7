import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { staffOf } from "../../http/access.js";
import { auditActorOf } from "../audit/audit-repo.js";
import { createUserInput } from "../tenants/create-tenant.js";
import { createApiKey, createApiKeyInput, listApiKeys, revokeApiKey } from "./api-keys.js";
import { addUser, listUsers, roleSchema, updateUser, updateUserInput } from "./manage-users.js";

const userOut = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  createdAt: z.number(),
});
const apiKeyOut = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  prefix: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  status: z
    .enum(["active", "limited", "suspended", "revoked"])
    .describe(
      "active: acts with its role; limited: its creator's role is now lower, so it acts with that; suspended: its creator is disabled, so it authenticates nothing until re-enabled; revoked: never again",
    ),
  effectiveRole: roleSchema.nullable().describe("The role the key acts with now (null: it acts with none)"),
});
const idParams = z.object({ id: z.string().min(1).max(64) });
const access = { staff: "users:manage" } as const;

/** Back-office users and API keys of the caller's tenant (owners only). */
export function userRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/admin/users",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "Back-office users of the tenant",
        response: { 200: z.object({ items: z.array(userOut) }) },
      },
    },
    async (req) => ({ items: await listUsers(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    "/api/admin/users",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "Create a back-office user",
        body: createUserInput,
        response: { 201: userOut },
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      const user = await addUser(ctx, actor.tenantId, req.body, auditActorOf(actor), req.ip);
      return reply.status(201).send(user);
    },
  );

  r.patch(
    "/api/admin/users/:id",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "Rename, change the role of, or disable a user (never the last active owner)",
        params: idParams,
        body: updateUserInput,
        response: { 200: userOut },
      },
    },
    async (req) => {
      const actor = staffOf(req);
      return updateUser(ctx, actor.tenantId, req.params.id, req.body, auditActorOf(actor), req.ip);
    },
  );

  r.get(
    "/api/admin/api-keys",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "API keys of the tenant (never the keys themselves)",
        response: { 200: z.object({ items: z.array(apiKeyOut) }) },
      },
    },
    async (req) => ({ items: await listApiKeys(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    "/api/admin/api-keys",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "Issue an API key; the key is in this answer only, never shown again",
        body: createApiKeyInput,
        response: {
          201: z.object({
            id: z.string(),
            name: z.string(),
            role: roleSchema,
            prefix: z.string(),
            key: z.string(),
          }),
        },
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      const key = await createApiKey(ctx, actor.tenantId, req.body, auditActorOf(actor), req.ip);
      return reply.status(201).send(key);
    },
  );

  r.delete(
    "/api/admin/api-keys/:id",
    {
      config: { access },
      schema: {
        tags: ["users"],
        summary: "Revoke an API key",
        params: idParams,
        response: { 204: z.null().describe("Revoked (or already revoked): no body") },
      },
    },
    async (req, reply) => {
      const actor = staffOf(req);
      await revokeApiKey(ctx, actor.tenantId, req.params.id, auditActorOf(actor), req.ip);
      return reply.status(204).send(null);
    },
  );
}
