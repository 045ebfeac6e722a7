import { isCountryCode } from "@psphub/protocol";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError } from "../../common/errors.js";
import { newClientId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import { hashPassword } from "../../infra/crypto/hashing.js";
import { isUniqueViolation, writeTransaction } from "../../infra/db/database.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { emailSchema, passwordSchema } from "../tenants/create-tenant.js";
import { auditView, type Client, toClient } from "./client-model.js";
import { createClientRepo } from "./client-repo.js";

/** Field rules shared by create and update (API-1 sends these values to tenant backends). */
export const clientFieldSchemas = {
  name: z.string().trim().min(1).max(120),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ().-]{2,39}$/, "digits, spaces and ( ) . - only, with an optional leading +"),
  /**
   * An assigned ISO 3166-1 alpha-2 code, stored lower case as API-1 sends it (`es`): a tenant
   * backend cannot place `sp` or `uk` (docs/psp-open-api.md#api-1-parameters).
   */
  nationality: z
    .string()
    .trim()
    .refine(
      isCountryCode,
      "not an ISO 3166-1 alpha-2 country code: e.g. es for Spain, gb for the United Kingdom",
    )
    .transform((v) => v.toLowerCase()),
  /** A language tag, stored lower case as API-1 sends it (`en-us`, `de`). */
  language: z
    .string()
    .trim()
    .max(35)
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a language tag, e.g. en-us or de")
    .transform((v) => v.toLowerCase()),
  group: z.string().trim().min(1).max(60),
  password: passwordSchema,
};

export const createClientInput = z.object({
  name: clientFieldSchemas.name,
  email: emailSchema,
  phone: clientFieldSchemas.phone.optional(),
  nationality: clientFieldSchemas.nationality.optional(),
  language: clientFieldSchemas.language.optional(),
  group: clientFieldSchemas.group.optional(),
  password: clientFieldSchemas.password.optional(),
});
export type CreateClientInput = z.input<typeof createClientInput>;

/** Collisions of 8-character ids are rare (36^8 ≈ 2.8e12); a few retries make them harmless. */
const ID_ATTEMPTS = 5;

/**
 * Creates a client of a tenant. The id is the API-1 `user_id` (`newClientId()`,
 * docs/psp-open-api.md#api-1-parameters); the email is unique per tenant (409 `email_taken`).
 * A password, when given, opens the client portal.
 */
export async function createClient(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  input: CreateClientInput,
  actor: AuditActor,
  ip: string | null = null,
): Promise<Client> {
  const data = parseInput(createClientInput, input);
  const repo = createClientRepo(ctx.db);
  const taken = () => new ConflictError("A client with that email exists", "email_taken");
  if (await repo.emailTaken(tenantId, data.email)) throw taken();
  const passwordHash = data.password === undefined ? null : await hashPassword(data.password);

  for (let attempt = 1; ; attempt++) {
    const row = {
      id: newClientId(),
      tenant_id: tenantId,
      name: data.name,
      email: data.email,
      phone: data.phone ?? null,
      nationality: data.nationality ?? null,
      language: data.language ?? null,
      client_group: data.group ?? null,
      password_hash: passwordHash,
      disabled: 0 as const,
      created_at: ctx.clock.now(),
    };
    const client = toClient(row);
    try {
      await writeTransaction(ctx.db, async (trx) => {
        await createClientRepo(trx).insert(row);
        await recordAudit(
          trx,
          {
            tenantId,
            actor,
            action: "client.create",
            targetType: "client",
            targetId: row.id,
            after: auditView(client),
            ip,
          },
          row.created_at,
        );
      });
      return client;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Either the email was taken meanwhile, or the random id collided: retry the latter only.
      if (await repo.emailTaken(tenantId, data.email)) throw taken();
      if (attempt >= ID_ATTEMPTS) throw err;
    }
  }
}
