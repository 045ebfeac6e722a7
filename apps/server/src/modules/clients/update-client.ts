import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { hashPassword } from "../../infra/crypto/hashing.js";
import { writeTransaction } from "../../infra/db/database.js";
import type { ClientsTable } from "../../infra/db/schema.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { createSessionRepo } from "../auth/session-repo.js";
import { auditView, type Client, toClient } from "./client-model.js";
import { createClientRepo } from "./client-repo.js";
import { clientFieldSchemas } from "./create-client.js";

/**
 * A partial update. Optional fields take `null` to clear them; `password: null` removes portal
 * access. The email is the client's identity and is not changed here.
 */
export const updateClientInput = z.object({
  name: clientFieldSchemas.name.optional(),
  phone: clientFieldSchemas.phone.nullable().optional(),
  nationality: clientFieldSchemas.nationality.nullable().optional(),
  language: clientFieldSchemas.language.nullable().optional(),
  group: clientFieldSchemas.group.nullable().optional(),
  password: clientFieldSchemas.password.nullable().optional(),
});
export type UpdateClientInput = z.input<typeof updateClientInput>;

/**
 * Updates a client of the tenant (404 for another tenant's). A password change or removal ends
 * the client's portal sessions. The audit record names a password change without its value.
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
  const passwordHash =
    data.password === undefined
      ? undefined
      : data.password === null
        ? null
        : await hashPassword(data.password);

  return writeTransaction(ctx.db, async (trx) => {
    const repo = createClientRepo(trx);
    const row = await repo.find(tenantId, clientId);
    if (!row) throw new NotFoundError("Client");
    const patch: Partial<ClientsTable> = {};
    if (data.name !== undefined) patch.name = data.name;
    if (data.phone !== undefined) patch.phone = data.phone;
    if (data.nationality !== undefined) patch.nationality = data.nationality;
    if (data.language !== undefined) patch.language = data.language;
    if (data.group !== undefined) patch.client_group = data.group;
    if (passwordHash !== undefined) patch.password_hash = passwordHash;
    if (Object.keys(patch).length === 0) return toClient(row);

    await repo.update(tenantId, clientId, patch);
    if (passwordHash !== undefined) await createSessionRepo(trx).deleteForSubject("client", clientId);
    const before = toClient(row);
    const after = toClient({ ...row, ...patch });
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: "client.update",
        targetType: "client",
        targetId: clientId,
        before: auditView(before),
        // `password` is redacted by recordAudit: the record says it changed, never to what.
        after: passwordHash !== undefined ? { ...auditView(after), password: "changed" } : auditView(after),
        ip,
      },
      ctx.clock.now(),
    );
    return after;
  });
}
