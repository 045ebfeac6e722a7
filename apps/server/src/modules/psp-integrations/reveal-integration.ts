import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import type { AdminActor } from "../../http/admin-actor.js";
import type { SecretBox } from "../../infra/crypto/secret-box.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { callbackBaseUrl } from "./integration-model.js";
import { createIntegrationRepo } from "./integration-repo.js";

/**
 * The "eye icon": merchant_id, the current token and CRM_Callback_URL, for an admin to copy
 * into the tenant backend. Audited (without the secret) in the same transaction as the read.
 */
export async function revealIntegration(
  ctx: Pick<AppContext, "db" | "clock" | "config" | "secretBox">,
  actor: AdminActor,
  id: string,
): Promise<{ merchantId: string; token: string; callbackUrl: string }> {
  return writeTransaction(ctx.db, async (trx) => {
    const row = await createIntegrationRepo(trx).find(actor.tenantId, id);
    if (!row) throw new NotFoundError("Integration");
    const now = ctx.clock.now();
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.reveal",
        targetType: "psp_integration",
        targetId: id,
        after: { merchantId: row.merchant_id },
        ip: actor.ip,
      },
      now,
    );
    return {
      merchantId: row.merchant_id,
      token: openCurrent(ctx.secretBox, row.token_enc),
      callbackUrl: callbackBaseUrl(ctx.config.publicBaseUrl),
    };
  });
}

/**
 * A token no key opens (sealed under a key this server no longer has) is a state to fix, not a
 * server error: rotating it makes a new one under the current key.
 */
function openCurrent(box: SecretBox, sealed: string): string {
  try {
    return box.open(sealed);
  } catch {
    throw new ConflictError(
      "The stored token cannot be decrypted with this server's ENCRYPTION_KEY (or ENCRYPTION_KEY_PREVIOUS): rotate the token to make a new one",
      "token_unreadable",
    );
  }
}
