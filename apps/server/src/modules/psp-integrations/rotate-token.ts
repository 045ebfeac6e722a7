import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { newIntegrationToken } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { recordAudit } from "../audit/audit-repo.js";
import { rotateTokenInput } from "./integration-schemas.js";

/**
 * Rotates an integration's token. The new token is current at once (API-1 signs with it);
 * the old one stays valid for API-2 until `now + grace` (see acceptedTokens). A grace of 0
 * drops the old token immediately. Only one previous token is kept: rotating again within a
 * grace period ends the older one's grace. The answer carries the new token once, for the admin
 * to hand to the tenant backend (docs/psp-open-api.md#token); it is never logged or audited.
 */
export async function rotateToken(
  ctx: Pick<AppContext, "clock" | "config" | "secretBox" | "callbackIntegrations">,
  actor: AdminActor,
  id: string,
  input: { graceHours?: number | undefined },
): Promise<{ token: string; tokenRotatedAt: number; previousTokenValidUntil: number | null }> {
  const data = parseInput(rotateTokenInput, input);
  const graceMs =
    data.graceHours === undefined ? ctx.config.tokenGraceMs : Math.round(data.graceHours * 3_600_000);
  return ctx.callbackIntegrations.change(async (repo, trx) => {
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Integration");
    const now = ctx.clock.now();
    const previousTokenValidUntil = graceMs > 0 ? now + graceMs : null;
    const token = newIntegrationToken();
    const ok = await repo.replaceToken(actor.tenantId, id, row.token_enc, {
      token_enc: ctx.secretBox.seal(token),
      prev_token_enc: previousTokenValidUntil === null ? null : row.token_enc,
      prev_token_expires_at: previousTokenValidUntil,
      token_rotated_at: now,
      updated_at: now,
    });
    if (!ok)
      throw new ConflictError("The token was rotated at the same time; try again", "rotation_conflict");
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.rotate_token",
        targetType: "psp_integration",
        targetId: id,
        // Field names avoid the word "token": the audit redactor would blank them.
        before: { rotatedAt: row.token_rotated_at },
        after: { rotatedAt: now, graceMs, previousValidUntil: previousTokenValidUntil },
        ip: actor.ip,
      },
      now,
    );
    return { token, tokenRotatedAt: now, previousTokenValidUntil };
  });
}
