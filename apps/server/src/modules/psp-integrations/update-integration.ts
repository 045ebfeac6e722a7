import type { AppContext } from "../../app-context.js";
import { type FieldIssue, NotFoundError, ValidationError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { encodeJson, fromBool, toBool } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { checkedAppUrl } from "./app-url.js";
import { statusQueryColumns, toIntegration } from "./integration-model.js";
import type { IntegrationPatch, IntegrationRow } from "./integration-repo.js";
import {
  type IntegrationView,
  type UpdateIntegrationInput,
  updateIntegrationInput,
} from "./integration-schemas.js";
import { auditSnapshot, integrationView } from "./integration-view.js";
import { buildParamSetup } from "./param-setup.js";

type Ctx = Pick<AppContext, "clock" | "config" | "callbackIntegrations">;

/**
 * Changes an integration's settings. `paramConfig` is merged over the current configuration;
 * `customParams` replaces the list (keys given are kept, missing keys get the next `custom_<n>`).
 * `merchant_id` and the token are never changed here.
 */
export async function updateIntegration(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: UpdateIntegrationInput,
): Promise<IntegrationView> {
  const data = parseInput(updateIntegrationInput, input);
  // DNS I/O before the transaction, never inside it.
  let appUrl: string | undefined;
  const urlIssues: FieldIssue[] = [];
  if (data.appUrl !== undefined) {
    const url = await checkedAppUrl(ctx, data.appUrl);
    if (url.ok) appUrl = url.appUrl;
    else urlIssues.push(url.issue);
  }

  return ctx.callbackIntegrations.change(async (repo, trx) => {
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Integration");
    const issues = [...urlIssues];
    const patch: IntegrationPatch = {};
    if (data.paramConfig !== undefined || data.customParams !== undefined) {
      const current = toIntegration(row);
      const setup = buildParamSetup(
        current.paramConfig,
        data.paramConfig,
        data.customParams ?? current.customParams,
      );
      issues.push(...setup.issues);
      patch.param_config = encodeJson(setup.paramConfig);
      patch.custom_params = encodeJson(setup.customParams);
    }
    if (issues.length > 0) throw new ValidationError("The integration settings are invalid", issues);
    if (data.name !== undefined) patch.name = data.name;
    if (appUrl !== undefined) patch.app_url = appUrl;
    if (data.enabled !== undefined) patch.enabled = fromBool(data.enabled);
    if (data.api1TimeoutMs !== undefined) patch.api1_timeout_ms = data.api1TimeoutMs;
    if (data.amountPolicy !== undefined) patch.amount_policy = data.amountPolicy;
    if (data.statusQuery !== undefined) Object.assign(patch, statusQueryColumns(data.statusQuery, row));

    const now = ctx.clock.now();
    const next: IntegrationRow = { ...row, ...patch, updated_at: now };
    const before = auditSnapshot(row);
    const after = auditSnapshot(next);
    if (JSON.stringify(before) === JSON.stringify(after))
      return integrationView(row, now, ctx.config.publicBaseUrl);

    await repo.update(actor.tenantId, id, { ...patch, updated_at: now });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.update",
        targetType: "psp_integration",
        targetId: id,
        before,
        after,
        ip: actor.ip,
      },
      now,
    );
    return integrationView(next, now, ctx.config.publicBaseUrl);
  });
}

/** Enables or disables an integration (a disabled one answers API-2 `psp_setting_not_found`). */
export async function setIntegrationEnabled(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  enabled: boolean,
): Promise<IntegrationView> {
  return ctx.callbackIntegrations.change(async (repo, trx) => {
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Integration");
    const now = ctx.clock.now();
    if (toBool(row.enabled) === enabled) return integrationView(row, now, ctx.config.publicBaseUrl);
    const next: IntegrationRow = { ...row, enabled: fromBool(enabled), updated_at: now };
    await repo.update(actor.tenantId, id, { enabled: next.enabled, updated_at: now });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: enabled ? "integration.enable" : "integration.disable",
        targetType: "psp_integration",
        targetId: id,
        before: { enabled: !enabled },
        after: { enabled },
        ip: actor.ip,
      },
      now,
    );
    return integrationView(next, now, ctx.config.publicBaseUrl);
  });
}
