import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { hashPassword } from "../../infra/crypto/hashing.js";
import { writeTransaction } from "../../infra/db/database.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { createSessionRepo } from "../auth/session-repo.js";
import { auditView, type Client, generatePortalPassword, toClient } from "./client-model.js";
import { createClientRepo } from "./client-repo.js";

type Ctx = Pick<AppContext, "db" | "clock">;

/**
 * Gives the client a new, generated portal password, returned this once and stored only as its
 * hash; every portal session of the client ends. Generated rather than typed by staff: nobody
 * picks a guessable or reused one, and no one but the client keeps knowing it once handed over.
 * The audit record says the password changed, never to what.
 */
export async function resetClientPassword(
  ctx: Ctx,
  tenantId: string,
  clientId: string,
  actor: AuditActor,
  ip: string | null = null,
  generate: () => string = generatePortalPassword,
): Promise<{ client: Client; password: string }> {
  const password = generate();
  // scrypt outside the transaction: a hash takes long, and the row lock need not wait for it.
  const hash = await hashPassword(password);
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createClientRepo(trx);
    const row = await repo.find(tenantId, clientId);
    if (!row) throw new NotFoundError("Client");
    await repo.update(tenantId, clientId, { password_hash: hash });
    await createSessionRepo(trx).deleteForSubject("client", clientId);
    const before = toClient(row);
    const after = toClient({ ...row, password_hash: hash });
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: "client.password_reset",
        targetType: "client",
        targetId: clientId,
        before: auditView(before),
        // `password` is redacted by recordAudit: the record shows that it changed.
        after: { ...auditView(after), password: "changed" },
        ip,
      },
      ctx.clock.now(),
    );
    return { client: after, password };
  });
}

/**
 * Disables or enables a client. Disabling ends every portal session and refuses portal logins;
 * wallets, ledger and deposits are untouched (a pending deposit still settles by its callback).
 * Setting the state it already has changes and audits nothing.
 */
export async function setClientDisabled(
  ctx: Ctx,
  tenantId: string,
  clientId: string,
  disabled: boolean,
  actor: AuditActor,
  ip: string | null = null,
): Promise<Client> {
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createClientRepo(trx);
    const row = await repo.find(tenantId, clientId);
    if (!row) throw new NotFoundError("Client");
    const before = toClient(row);
    if (before.disabled === disabled) return before;
    const flag = disabled ? 1 : 0;
    await repo.update(tenantId, clientId, { disabled: flag });
    if (disabled) await createSessionRepo(trx).deleteForSubject("client", clientId);
    const after = toClient({ ...row, disabled: flag });
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: disabled ? "client.disable" : "client.enable",
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
}
