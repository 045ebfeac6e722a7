import type { AppContext } from "../../app-context.js";
import { type FieldIssue, ValidationError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { type Db, encodeJson, fromBool, toBool, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { exponentsInUse, lockTenantExponents } from "../clients/currency-decimals.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { exponentIssues } from "./currency-exponents.js";
import { conversionStoreIssues } from "./method-conversion.js";
import { parseCurrencies } from "./method-currencies.js";
import { encodeCurrencies } from "./method-model.js";
import { createMethodRepo, type MethodRow } from "./method-repo.js";
import { type CreateMethodInput, createMethodInput, type MethodView } from "./method-schemas.js";
import { checkFieldLabels, checkVisibility } from "./method-settings.js";
import { auditSnapshot, methodView } from "./method-view.js";

/** The issue for an integration id that is not one of the tenant's (missing or another tenant's). */
export const unknownIntegration = () =>
  new ValidationError("The integration does not exist", [
    { path: "integrationId", message: "Integration not found" },
  ]);

/**
 * The issues of a fallback method id: it must be another enabled, not deleted method of the
 * same tenant (a method of another tenant reads as missing).
 */
export async function fallbackIssues(
  db: Db,
  tenantId: string,
  fallbackId: string | null,
  selfId: string | null,
): Promise<FieldIssue[]> {
  if (fallbackId === null) return [];
  if (fallbackId === selfId) return [{ path: "fallbackMethodId", message: "cannot be the method itself" }];
  const other = await createMethodRepo(db).find(tenantId, fallbackId);
  if (!other) return [{ path: "fallbackMethodId", message: "Deposit method not found" }];
  if (!toBool(other.enabled)) return [{ path: "fallbackMethodId", message: "must be an enabled method" }];
  return [];
}

/** Creates a deposit method at the end of the tenant's display order. */
export async function createMethod(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: AdminActor,
  input: CreateMethodInput,
): Promise<MethodView> {
  const data = parseInput(createMethodInput, input);
  return writeTransaction(ctx.db, async (trx) => {
    const integrationRow = await createIntegrationRepo(trx).find(actor.tenantId, data.integrationId);
    if (!integrationRow) throw unknownIntegration();
    const integration = toIntegration(integrationRow);

    const cur = parseCurrencies(data.currencies);
    await lockTenantExponents(trx, actor.tenantId);
    const inUse = await exponentsInUse(
      trx,
      actor.tenantId,
      cur.currencies.map((c) => c.code),
    );
    const labels = checkFieldLabels(data.fieldLabels, integration.customParams);
    const vis = checkVisibility(data.visibility, data.clientGroups);
    const issues = [
      ...cur.issues,
      ...exponentIssues(data.currencies, cur.currencies, inUse),
      ...(await conversionStoreIssues(trx, actor.tenantId, cur.currencies, data.currencies)),
      ...vis.issues,
      ...labels.issues,
      ...(await fallbackIssues(trx, actor.tenantId, data.fallbackMethodId, null)),
    ];
    if (issues.length > 0) throw new ValidationError("The deposit method settings are invalid", issues);

    const repo = createMethodRepo(trx);
    const now = ctx.clock.now();
    const row: MethodRow = {
      id: newId(),
      tenant_id: actor.tenantId,
      integration_id: integration.id,
      name: data.name,
      enabled: fromBool(data.enabled),
      sort_order: await repo.nextSortOrder(actor.tenantId),
      currencies: encodeCurrencies(cur.currencies),
      visibility: data.visibility,
      client_groups: encodeJson(vis.clientGroups),
      field_labels: encodeJson(labels.fieldLabels),
      order_ttl_seconds: data.orderTtlSeconds,
      fallback_method_id: data.fallbackMethodId,
      deleted_at: null,
      created_at: now,
      updated_at: now,
    };
    await repo.insert(row);
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "deposit_method.create",
        targetType: "deposit_method",
        targetId: row.id,
        after: auditSnapshot(row),
        ip: actor.ip,
      },
      now,
    );
    return methodView(row, integration);
  });
}
