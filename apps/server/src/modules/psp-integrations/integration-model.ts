import type { Api1ParamConfig } from "@psphub/protocol/admin";
import type { SecretBox } from "../../infra/crypto/secret-box.js";
import { decodeJson, toBool } from "../../infra/db/database.js";
import type { PspIntegrationsTable } from "../../infra/db/schema.js";
import { scheduleOf } from "../status-query/status-query-schedule.js";

/** A custom API-1 parameter that clients fill in on the deposit form. */
export type CustomParamType = "text" | "number" | "email" | "phone" | "select";
export interface CustomParam {
  key: string;
  label: string;
  type: CustomParamType;
  required: boolean;
  /** For `select` only: the allowed values. */
  options?: string[];
  /** Display order on the deposit form (ascending). */
  order: number;
}

export type AmountPolicy = "exact" | "credit_paid" | "review";

/** A PSP integration as the domain sees it. Never carries the token. */
export interface Integration {
  id: string;
  tenantId: string;
  name: string;
  enabled: boolean;
  appUrl: string;
  merchantId: string;
  api1TimeoutMs: number;
  amountPolicy: AmountPolicy;
  paramConfig: Api1ParamConfig;
  customParams: CustomParam[];
  tokenRotatedAt: number | null;
  /** While set and in the future, API-2 accepts the previous token too. */
  prevTokenExpiresAt: number | null;
  /** API-3 (docs/psp-open-api.md#api-3-status-query): off by default; the schedule's delays in seconds. */
  statusQuery: StatusQuerySettings;
  createdAt: number;
  updatedAt: number;
}

export type StatusQuerySettings = { enabled: boolean; scheduleSeconds: number[]; timeoutMs: number };

export const DEFAULT_API1_TIMEOUT_MS = 10_000;
export const DEFAULT_STATUS_QUERY_TIMEOUT_MS = 10_000;

export function toIntegration(row: PspIntegrationsTable): Integration {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    enabled: toBool(row.enabled),
    appUrl: row.app_url,
    merchantId: row.merchant_id,
    api1TimeoutMs: row.api1_timeout_ms,
    amountPolicy: row.amount_policy,
    paramConfig: decodeJson(row.param_config, {} as Api1ParamConfig),
    customParams: decodeJson<CustomParam[]>(row.custom_params, []).sort((a, b) => a.order - b.order),
    tokenRotatedAt: row.token_rotated_at,
    prevTokenExpiresAt: row.prev_token_expires_at,
    statusQuery: {
      enabled: toBool(row.status_query_enabled),
      scheduleSeconds: [...scheduleOf(row.status_query_schedule)],
      timeoutMs: row.status_query_timeout_ms,
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The tokens API-2 accepts for an integration at `now`: the current one, and the previous one
 * while its rotation grace period lasts. API-1 always signs with the current one.
 */
export function acceptedTokens(
  row: Pick<PspIntegrationsTable, "token_enc" | "prev_token_enc" | "prev_token_expires_at">,
  box: SecretBox,
  now: number,
): string[] {
  const tokens = [box.open(row.token_enc)];
  if (row.prev_token_enc && row.prev_token_expires_at && row.prev_token_expires_at > now) {
    tokens.push(box.open(row.prev_token_enc));
  }
  return tokens;
}

/** `CRM_Callback_URL`: the base the tenant backend appends `/pay/callback` to. */
export const callbackBaseUrl = (publicBaseUrl: string): string => `${publicBaseUrl}/api/psp`;

/**
 * The status-query columns for `input` merged over `current` (a new integration: off, the
 * default schedule, 10 s). A schedule is stored as given; null means the spec's default.
 */
export function statusQueryColumns(
  input: {
    enabled?: boolean | undefined;
    scheduleSeconds?: number[] | undefined;
    timeoutMs?: number | undefined;
  } = {},
  current?: Pick<
    PspIntegrationsTable,
    "status_query_enabled" | "status_query_schedule" | "status_query_timeout_ms"
  >,
): Pick<PspIntegrationsTable, "status_query_enabled" | "status_query_schedule" | "status_query_timeout_ms"> {
  return {
    status_query_enabled:
      input.enabled === undefined ? (current?.status_query_enabled ?? 0) : input.enabled ? 1 : 0,
    status_query_schedule:
      input.scheduleSeconds === undefined
        ? (current?.status_query_schedule ?? null)
        : JSON.stringify(input.scheduleSeconds),
    status_query_timeout_ms:
      input.timeoutMs ?? current?.status_query_timeout_ms ?? DEFAULT_STATUS_QUERY_TIMEOUT_MS,
  };
}
