import type { AppContext } from "../../app-context.js";
import { type FieldIssue, NotFoundError, ValidationError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { decodeJson, encodeJson, fromBool, toBool, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { exponentsInUse, lockTenantExponents } from "../clients/currency-decimals.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { fallbackIssues, unknownIntegration } from "./create-method.js";
import { exponentIssues } from "./currency-exponents.js";
import { conversionStoreIssues } from "./method-conversion.js";
import { parseCurrencies } from "./method-currencies.js";
import { decodeCurrencies, encodeCurrencies } from "./method-model.js";
import { createMethodRepo, type MethodPatch, type MethodRow } from "./method-repo.js";
import { type MethodView, type UpdateMethodInput, updateMethodInput } from "./method-schemas.js";
import { checkFieldLabels, checkVisibility, keepKnownLabels } from "./method-settings.js";
import { auditSnapshot, methodView } from "./method-view.js";

type Ctx = Pick<AppContext, "db" | "clock">;

/**
 * Changes a deposit method. Lists (`currencies`, `clientGroups`, `fieldLabels`) are replaced
 * as a whole. Moving the method to another integration keeps only the labels whose keys that
 * integration has, unless new labels are given.
 */
export async function updateMethod(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: UpdateMethodInput,
): Promise<MethodView> {
  const data = parseInput(updateMethodInput, input);
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createMethodRepo(trx);
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Deposit method");
    const integrationId = data.integrationId ?? row.integration_id;
    const integrationRow = await createIntegrationRepo(trx).find(actor.tenantId, integrationId);
    if (!integrationRow) {
      if (data.integrationId !== undefined) throw unknownIntegration();
      throw new NotFoundError("Deposit method");
    }
    const integration = toIntegration(integrationRow);

    const issues: FieldIssue[] = [];
    const patch: MethodPatch = {};
    if (data.name !== undefined) patch.name = data.name;
    if (data.enabled !== undefined) patch.enabled = fromBool(data.enabled);
    if (data.orderTtlSeconds !== undefined) patch.order_ttl_seconds = data.orderTtlSeconds;
    if (data.integrationId !== undefined) patch.integration_id = integration.id;
    if (data.currencies !== undefined) {
      const cur = parseCurrencies(data.currencies);
      await lockTenantExponents(trx, actor.tenantId);
      const inUse = await exponentsInUse(
        trx,
        actor.tenantId,
        cur.currencies.map((c) => c.code),
        { exceptMethodId: id },
      );
      const current = decodeCurrencies(row.currencies);
      issues.push(...cur.issues, ...exponentIssues(data.currencies, cur.currencies, inUse, current));
      issues.push(
        ...(await conversionStoreIssues(trx, actor.tenantId, cur.currencies, data.currencies, {
          exceptMethodId: id,
          kept: current,
        })),
      );
      patch.currencies = encodeCurrencies(cur.currencies);
    }
    if (data.visibility !== undefined || data.clientGroups !== undefined) {
      const visibility = data.visibility ?? row.visibility;
      const vis = checkVisibility(
        visibility,
        data.clientGroups ?? decodeJson<string[]>(row.client_groups, []),
      );
      issues.push(...vis.issues);
      patch.visibility = visibility;
      patch.client_groups = encodeJson(vis.clientGroups);
    }
    if (data.fieldLabels !== undefined) {
      const labels = checkFieldLabels(data.fieldLabels, integration.customParams);
      issues.push(...labels.issues);
      patch.field_labels = encodeJson(labels.fieldLabels);
    } else if (data.integrationId !== undefined && data.integrationId !== row.integration_id) {
      const current = decodeJson<Record<string, string>>(row.field_labels, {});
      patch.field_labels = encodeJson(keepKnownLabels(current, integration.customParams));
    }
    if (data.fallbackMethodId !== undefined) {
      issues.push(...(await fallbackIssues(trx, actor.tenantId, data.fallbackMethodId, id)));
      patch.fallback_method_id = data.fallbackMethodId;
    }
    if (issues.length > 0) throw new ValidationError("The deposit method settings are invalid", issues);

    const now = ctx.clock.now();
    const next: MethodRow = { ...row, ...patch, updated_at: now };
    const before = auditSnapshot(row);
    const after = auditSnapshot(next);
    if (JSON.stringify(before) === JSON.stringify(after)) return methodView(row, integration);
    await repo.update(actor.tenantId, id, { ...patch, updated_at: now });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "deposit_method.update",
        targetType: "deposit_method",
        targetId: id,
        before,
        after,
        ip: actor.ip,
      },
      now,
    );
    return methodView(next, integration);
  });
}

/** Enables or disables a method (a disabled one is not offered in the portal). */
export async function setMethodEnabled(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  enabled: boolean,
): Promise<MethodView> {
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createMethodRepo(trx);
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Deposit method");
    const integrationRow = await createIntegrationRepo(trx).find(actor.tenantId, row.integration_id);
    if (!integrationRow) throw new NotFoundError("Deposit method");
    if (toBool(row.enabled) === enabled) return methodView(row, integrationRow);
    const now = ctx.clock.now();
    const next: MethodRow = { ...row, enabled: fromBool(enabled), updated_at: now };
    await repo.update(actor.tenantId, id, { enabled: next.enabled, updated_at: now });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: enabled ? "deposit_method.enable" : "deposit_method.disable",
        targetType: "deposit_method",
        targetId: id,
        before: { enabled: !enabled },
        after: { enabled },
        ip: actor.ip,
      },
      now,
    );
    return methodView(next, integrationRow);
  });
}
