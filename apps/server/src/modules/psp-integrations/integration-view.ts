import { callbackBaseUrl, type Integration, toIntegration } from "./integration-model.js";
import type { IntegrationRow } from "./integration-repo.js";
import type { IntegrationView } from "./integration-schemas.js";

/** An integration as the admin API shows it. Never the token. */
export function integrationView(row: IntegrationRow, now: number, publicBaseUrl: string): IntegrationView {
  const i = toIntegration(row);
  return {
    id: i.id,
    name: i.name,
    enabled: i.enabled,
    appUrl: i.appUrl,
    merchantId: i.merchantId,
    api1TimeoutMs: i.api1TimeoutMs,
    amountPolicy: i.amountPolicy,
    paramConfig: i.paramConfig,
    customParams: i.customParams,
    callbackUrl: callbackBaseUrl(publicBaseUrl),
    statusQuery: i.statusQuery,
    tokenRotatedAt: i.tokenRotatedAt,
    previousTokenValidUntil:
      row.prev_token_enc && i.prevTokenExpiresAt !== null && i.prevTokenExpiresAt > now
        ? i.prevTokenExpiresAt
        : null,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}

/** What the audit log records of an integration: its settings, never a secret. */
export function auditSnapshot(row: IntegrationRow) {
  const i: Integration = toIntegration(row);
  return {
    name: i.name,
    enabled: i.enabled,
    appUrl: i.appUrl,
    merchantId: i.merchantId,
    api1TimeoutMs: i.api1TimeoutMs,
    amountPolicy: i.amountPolicy,
    paramConfig: i.paramConfig,
    customParams: i.customParams,
    statusQuery: i.statusQuery,
  };
}
