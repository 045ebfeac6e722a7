import type { Selectable } from "kysely";
import type { Db } from "../infra/db/database.js";
import type { PspIntegrationsTable } from "../infra/db/schema.js";
import { toDepositMethod } from "../modules/deposit-methods/method-model.js";
import type { MethodWithIntegration } from "../modules/deposits/deposit-repo.js";
import { toIntegration } from "../modules/psp-integrations/integration-model.js";

// The query-builder lookup of a method and its integration: the reference that the hand-written
// `depositWriter.findContext` (create-deposit-repo.ts) is tested against.

/**
 * A method of the tenant with its integration (the token stays encrypted in `integrationRow`),
 * in one query: both rows must belong to the tenant.
 */
export async function findMethodWithIntegration(
  db: Db,
  tenantId: string,
  methodId: string,
): Promise<MethodWithIntegration | undefined> {
  const r = await db
    .selectFrom("deposit_methods as m")
    .innerJoin("psp_integrations as i", (j) =>
      j.onRef("i.id", "=", "m.integration_id").on("i.tenant_id", "=", tenantId),
    )
    .selectAll("m")
    .select([
      "i.id as i_id",
      "i.tenant_id as i_tenant_id",
      "i.name as i_name",
      "i.enabled as i_enabled",
      "i.app_url as i_app_url",
      "i.merchant_id as i_merchant_id",
      "i.token_enc as i_token_enc",
      "i.prev_token_enc as i_prev_token_enc",
      "i.prev_token_expires_at as i_prev_token_expires_at",
      "i.token_rotated_at as i_token_rotated_at",
      "i.api1_timeout_ms as i_api1_timeout_ms",
      "i.amount_policy as i_amount_policy",
      "i.param_config as i_param_config",
      "i.custom_params as i_custom_params",
      "i.status_query_enabled as i_status_query_enabled",
      "i.status_query_schedule as i_status_query_schedule",
      "i.status_query_timeout_ms as i_status_query_timeout_ms",
      "i.created_at as i_created_at",
      "i.updated_at as i_updated_at",
    ])
    .where("m.tenant_id", "=", tenantId)
    .where("m.id", "=", methodId)
    .executeTakeFirst();
  if (!r) return undefined;
  const {
    i_id,
    i_tenant_id,
    i_name,
    i_enabled,
    i_app_url,
    i_merchant_id,
    i_token_enc,
    i_prev_token_enc,
    i_prev_token_expires_at,
    i_token_rotated_at,
    i_api1_timeout_ms,
    i_amount_policy,
    i_param_config,
    i_custom_params,
    i_status_query_enabled,
    i_status_query_schedule,
    i_status_query_timeout_ms,
    i_created_at,
    i_updated_at,
    ...methodRow
  } = r;
  const integrationRow: Selectable<PspIntegrationsTable> = {
    id: i_id,
    tenant_id: i_tenant_id,
    name: i_name,
    enabled: i_enabled,
    app_url: i_app_url,
    merchant_id: i_merchant_id,
    token_enc: i_token_enc,
    prev_token_enc: i_prev_token_enc,
    prev_token_expires_at: i_prev_token_expires_at,
    token_rotated_at: i_token_rotated_at,
    api1_timeout_ms: i_api1_timeout_ms,
    amount_policy: i_amount_policy,
    param_config: i_param_config,
    custom_params: i_custom_params,
    status_query_enabled: i_status_query_enabled,
    status_query_schedule: i_status_query_schedule,
    status_query_timeout_ms: i_status_query_timeout_ms,
    created_at: i_created_at,
    updated_at: i_updated_at,
  };
  return {
    method: toDepositMethod(methodRow),
    deletedAt: methodRow.deleted_at,
    integration: toIntegration(integrationRow),
    integrationRow,
    methodRow,
  };
}
