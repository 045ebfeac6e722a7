import type { ApiBody, ApiData } from "../lib/api.js";
import type { paths } from "../lib/api-schema.js";

/**
 * Names for the back-office API's answers, taken from the generated schema (lib/api-schema.d.ts):
 * the server's response schemas are the one definition, nothing here is written by hand.
 */

export type StaffMe = ApiData<"/api/auth/me", "get">["me"];
export type StaffLogin = ApiBody<"/api/auth/login", "post">;

export type Integration = ApiData<"/api/admin/integrations/{id}", "get">;
export type CustomParam = Integration["customParams"][number];
export type CustomParamType = CustomParam["type"];
export type AmountPolicy = Integration["amountPolicy"];
export type Revealed = ApiData<"/api/admin/integrations/{id}/reveal", "post">;
export type Api1Preview = ApiData<"/api/admin/integrations/api1-preview", "post">;
export type CertifyRun = ApiData<"/api/admin/integrations/{id}/certify-runs", "get">["items"][number];
export type CallbackLogEntry = ApiData<"/api/admin/integrations/{id}/callbacks", "get">["items"][number];

export type Client = ApiData<"/api/admin/clients", "get">["items"][number];

export type DepositMethod = ApiData<"/api/admin/deposit-methods/{id}", "get">;
export type MethodCurrency = DepositMethod["currencies"][number];

export type AdminDeposit = ApiData<"/api/admin/deposits", "get">["items"][number];
export type DepositStatus = AdminDeposit["status"];
export type AdminDepositDetail = ApiData<"/api/admin/deposits/{id}", "get">;
/** One timeline event: a union discriminated by `kind` (the server's deposit-events.ts). */
export type TimelineEvent = AdminDepositDetail["timeline"][number];

export type ReviewItem = ApiData<"/api/admin/review", "get">["items"][number];
export type Alert = ApiData<"/api/admin/alerts", "get">["items"][number];
export type IntegrationHealth = ApiData<"/api/admin/integrations/{id}/health", "get">;
export type Dashboard = ApiData<"/api/admin/dashboard", "get">;
export type AuditRecord = ApiData<"/api/admin/audit", "get">["items"][number];
export type StaffUser = ApiData<"/api/admin/users", "get">["items"][number];
export type ApiKey = ApiData<"/api/admin/api-keys", "get">["items"][number];

/** A deposit's locked quote (deposit views; null: the order credits its own currency). */
export type DepositQuote = NonNullable<AdminDepositDetail["quote"]>;
/** A deposit method currency's conversion (null: it credits itself). */
export type FxConversion = NonNullable<MethodCurrency["conversion"]>;

export type FxSource = ApiData<"/api/admin/fx/sources", "get">["items"][number];
export type FxSourceKind = FxSource["kind"];
export type FxSourceInput = ApiBody<"/api/admin/fx/sources", "post">;
export type FxSourceUpdate = ApiBody<"/api/admin/fx/sources/{id}", "put">;
export type FxTestResult = ApiData<"/api/admin/fx/sources/{id}/test", "post">;
export type FxRateInput = ApiBody<"/api/admin/fx/sources/{id}/rates/{from}/{to}", "put">;
export type FxManualRate = ApiData<"/api/admin/fx/sources/{id}/rates", "get">["items"][number];

/** The statuses in the order the filters list them. */
export const DEPOSIT_STATUSES: DepositStatus[] = [
  "pending",
  "processing",
  "succeeded",
  "failed",
  "expired",
  "cancelled",
];

export type WebhookEndpoint = ApiData<"/api/admin/webhooks/endpoints/{id}", "get">;
export type WebhookEndpointInput = ApiBody<"/api/admin/webhooks/endpoints", "post">;
export type WebhookEndpointUpdate = ApiBody<"/api/admin/webhooks/endpoints/{id}", "put">;
export type WebhookReplayInput = ApiBody<"/api/admin/webhooks/endpoints/{id}/replays", "post">;
export type WebhookDelivery = ApiData<
  "/api/admin/webhooks/endpoints/{id}/deliveries",
  "get"
>["items"][number];
export type WebhookDeliveryDetail = ApiData<"/api/admin/webhooks/endpoints/{id}/deliveries/{eventId}", "get">;
export type WebhookAttempt = WebhookDeliveryDetail["attempts"][number];
export type WebhookDeliveryFilter = NonNullable<
  paths["/api/admin/webhooks/endpoints/{id}/deliveries"]["get"]["parameters"]["query"]
>;

export type WithdrawalMethod = ApiData<"/api/admin/withdrawal-methods/{id}", "get">;
export type WithdrawalMethodInput = ApiBody<"/api/admin/withdrawal-methods", "post">;
export type AdminWithdrawal = ApiData<"/api/admin/withdrawals", "get">["items"][number];
export type WithdrawalStatus = AdminWithdrawal["status"];
export type AdminWithdrawalDetail = ApiData<"/api/admin/withdrawals/{id}", "get">;
export type WithdrawalEvent = AdminWithdrawalDetail["events"][number];
export type WithdrawalActions = AdminWithdrawalDetail["actions"];
export type WithdrawalFilter = NonNullable<paths["/api/admin/withdrawals"]["get"]["parameters"]["query"]>;

/** The withdrawal statuses in the order they happen (the queue's status filter lists them so). */
export const WITHDRAWAL_STATUSES: WithdrawalStatus[] = [
  "requested",
  "approving",
  "approved",
  "paying",
  "paid",
  "failed",
  "rejected",
  "cancelled",
];
