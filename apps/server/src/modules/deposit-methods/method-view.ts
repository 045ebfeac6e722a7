import { type Integration, toIntegration } from "../psp-integrations/integration-model.js";
import type { IntegrationRow } from "../psp-integrations/integration-repo.js";
import { currencyView } from "./method-currencies.js";
import { type DepositMethod, depositFields, toDepositMethod } from "./method-model.js";
import type { MethodRow } from "./method-repo.js";
import type { MethodView } from "./method-schemas.js";

/** A method as the admin API shows it, with its deposit fields derived from the integration now. */
export function methodView(row: MethodRow, integration: IntegrationRow | Integration): MethodView {
  const m = toDepositMethod(row);
  const i = "tenant_id" in integration ? toIntegration(integration) : integration;
  return {
    id: m.id,
    name: m.name,
    integrationId: m.integrationId,
    integrationName: i.name,
    enabled: m.enabled,
    sortOrder: m.sortOrder,
    currencies: m.currencies.map(currencyView),
    visibility: m.visibility,
    clientGroups: m.clientGroups,
    fieldLabels: m.fieldLabels,
    fields: depositFields(m, i),
    orderTtlSeconds: m.orderTtlSeconds,
    fallbackMethodId: m.fallbackMethodId,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

/** What the audit log records of a method. */
export function auditSnapshot(row: MethodRow) {
  const m: DepositMethod = toDepositMethod(row);
  return {
    name: m.name,
    integrationId: m.integrationId,
    enabled: m.enabled,
    sortOrder: m.sortOrder,
    currencies: m.currencies.map(currencyView),
    visibility: m.visibility,
    clientGroups: m.clientGroups,
    fieldLabels: m.fieldLabels,
    orderTtlSeconds: m.orderTtlSeconds,
    fallbackMethodId: m.fallbackMethodId,
  };
}
