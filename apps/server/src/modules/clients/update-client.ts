import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { isUniqueViolation, writeTransaction } from "../../infra/db/database.js";
import type { ClientsTable } from "../../infra/db/schema.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { emailSchema } from "../tenants/create-tenant.js";
import { auditView, type Client, toClient } from "./client-model.js";
import { createClientRepo } from "./client-repo.js";
import { clientFieldSchemas } from "./create-client.js";

/**
 * A partial update of a client's details. Optional fields take `null` to clear them. The portal
 * password and the disabled flag are not details: they change through `client-access.ts`,
 * which needs `clients:access`.
 */
export const updateClientInput = z
  .object({
    name: clientFieldSchemas.name.optional(),
    email: emailSchema.optional(),
    phone: clientFieldSchemas.phone.nullable().optional(),
    nationality: clientFieldSchemas.nationality.nullable().optional(),
    language: clientFieldSchemas.language.nullable().optional(),
    group: clientFieldSchemas.group.nullable().optional(),
  })
  .strict();
export type UpdateClientInput = z.input<typeof updateClientInput>;

const emailTaken = () => new ConflictError("A client with that email exists", "email_taken");

/**
 * Updates a client of the tenant (404 for another tenant's); 409 `email_taken` when the new email
 * is another client's. A change is audited with the client before and after; an edit that
 * changes nothing writes nothing.
 */
export async function updateClient(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  clientId: string,
  input: UpdateClientInput,
  actor: AuditActor,
  ip: string | null = null,
): Promise<Client> {
  const data = parseInput(updateClientInput, input);
  try {
    return await writeTransaction(ctx.db, async (trx) => {
      const repo = createClientRepo(trx);
      const row = await repo.find(tenantId, clientId);
      if (!row) throw new NotFoundError("Client");
      const patch: Partial<ClientsTable> = {};
      if (data.name !== undefined) patch.name = data.name;
      if (data.email !== undefined) patch.email = data.email;
      if (data.phone !== undefined) patch.phone = data.phone;
      if (data.nationality !== undefined) patch.nationality = data.nationality;
      if (data.language !== undefined) patch.language = data.language;
      if (data.group !== undefined) patch.client_group = data.group;
      const before = toClient(row);
      const after = toClient({ ...row, ...patch });
      if (JSON.stringify(auditView(before)) === JSON.stringify(auditView(after))) return before;
      if (
        patch.email !== undefined &&
        patch.email !== row.email &&
        (await repo.emailTaken(tenantId, patch.email))
      )
        throw emailTaken();

      await repo.update(tenantId, clientId, patch);
      await recordAudit(
        trx,
        {
          tenantId,
          actor,
          action: "client.update",
          targetType: "client",
          targetId: clientId,
          before: auditView(before),
          after: auditView(after),
          ip,
        },
        ctx.clock.now(),
      );
      return after;
    });
  } catch (err) {
    // Two edits racing for one address: the database's unique (tenant, email) decides.
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}
