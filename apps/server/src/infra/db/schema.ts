/**
 * Kysely table types, shared by SQLite and PostgreSQL.
 *
 * Portability rules (one place, so repos never branch on the dialect):
 * - timestamps are epoch milliseconds in BIGINT columns, read back as JS numbers;
 * - money is integer minor units in BIGINT columns, read back as JS numbers and turned into
 *   bigint by the repos (amounts are capped at 15 significant digits, far inside 2^53);
 * - booleans are INTEGER 0/1;
 * - JSON is TEXT, encoded and decoded by the repos.
 */
export type Bool01 = 0 | 1;

export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  /** JSON `{currency: decimal text}` (migration 0009): a needs-assistance credit above it needs a second approver. */
  four_eyes_limits: string | null;
  created_at: number;
  /** When the platform operator suspended the tenant (migration 0012); null: active. */
  suspended_at: number | null;
  suspension_reason: string | null;
}

export type Role = "owner" | "admin" | "finance" | "viewer";

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  disabled: Bool01;
  created_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the session secret: a database leak does not leak live sessions. */
  id_hash: string;
  kind: "user" | "client";
  subject_id: string;
  tenant_id: string;
  csrf_token: string;
  expires_at: number;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** First characters of the key, shown in lists so a key can be recognised. */
  prefix: string;
  key_hash: string;
  role: Role;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface PspIntegrationsTable {
  id: string;
  tenant_id: string;
  name: string;
  enabled: Bool01;
  app_url: string;
  merchant_id: string;
  /** AES-256-GCM ciphertext of the token. */
  token_enc: string;
  /** The previous token during a rotation grace period. */
  prev_token_enc: string | null;
  prev_token_expires_at: number | null;
  token_rotated_at: number | null;
  api1_timeout_ms: number;
  amount_policy: "exact" | "credit_paid" | "review";
  /** JSON: Api1ParamConfig */
  param_config: string;
  /** JSON: CustomParam[] */
  custom_params: string;
  /** API-3 (migration 0009): off by default. */
  status_query_enabled: Bool01;
  /** JSON array of delays in seconds between queries; null: the spec's default schedule. */
  status_query_schedule: string | null;
  status_query_timeout_ms: number;
  created_at: number;
  updated_at: number;
}

export interface DepositMethodsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  name: string;
  enabled: Bool01;
  sort_order: number;
  /** JSON: MethodCurrency[] with minor-unit amounts as decimal strings */
  currencies: string;
  visibility: "all" | "groups";
  /** JSON: string[] */
  client_groups: string;
  /** JSON: Record<customKey, label> */
  field_labels: string;
  order_ttl_seconds: number;
  /** Offered in the portal while this method's integration is unavailable (migration 0011). */
  fallback_method_id: string | null;
  /** Soft delete: deposits keep pointing at the method for their history. */
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ClientsTable {
  /**
   * The API-1 `user_id`: 8 lower-case alphanumerics, globally unique
   * (docs/psp-open-api.md#api-1-parameters).
   */
  id: string;
  tenant_id: string;
  name: string;
  email: string;
  phone: string | null;
  nationality: string | null;
  language: string | null;
  client_group: string | null;
  password_hash: string | null;
  /** 1: no portal login (migration 0008); the money stays. */
  disabled: Bool01;
  created_at: number;
}

export interface WalletsTable {
  id: string;
  tenant_id: string;
  client_id: string;
  currency: string;
  /** Cached; always equals the sum of the wallet's entries that move the balance. */
  balance_minor: number;
  /** What open withdrawals hold (migration 0018): the sum of its hold entries; available = balance − held. */
  held_minor: number;
  created_at: number;
}

export type LedgerKind =
  | "deposit"
  | "adjustment"
  | "withdrawal_hold"
  | "withdrawal_release"
  | "withdrawal_debit";
/** The kinds that move a wallet's held amount, not its balance. */
export const HOLD_KINDS: readonly LedgerKind[] = ["withdrawal_hold", "withdrawal_release"];

export interface LedgerEntriesTable {
  id: string;
  tenant_id: string;
  wallet_id: string;
  amount_minor: number;
  /** `withdrawal_hold` and `withdrawal_release` move the wallet's held amount; the rest its balance. */
  kind: LedgerKind;
  /** At most one `deposit` entry per deposit: a unique index enforces exactly-once crediting. */
  deposit_id: string | null;
  /** At most one entry of each withdrawal kind per withdrawal (migration 0018). */
  withdrawal_id: string | null;
  memo: string | null;
  created_at: number;
}

export type DepositStatus = "pending" | "processing" | "succeeded" | "failed" | "expired" | "cancelled";

export interface DepositsTable {
  id: string;
  tenant_id: string;
  order_no: string;
  client_id: string;
  method_id: string;
  integration_id: string;
  currency: string;
  decimals: number;
  amount_minor: number;
  fee_minor: number;
  credit_minor: number;
  /**
   * The method's fee rule for the order's currency when the order was created (migration 0004):
   * the fee of a paid amount other than the ordered one. Basis points; minor units; null: no cap.
   */
  fee_rule_bps: number;
  fee_rule_fixed_minor: number;
  fee_rule_max_minor: number | null;
  paid_amount_minor: number | null;
  status: DepositStatus;
  /** JSON: Record<customKey, string> the client entered */
  fields: string;
  device: string | null;
  language: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  payment_url: string | null;
  failure_reason: string | null;
  failure_message: string | null;
  transaction_id: string | null;
  psp_time: number | null;
  created_by: string | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
  finalized_at: number | null;
  /** When the next API-3 status query is due (migration 0009); null: none scheduled. */
  status_query_due_at: number | null;
  /** Queries of the current schedule already made. */
  status_query_step: number;
  /**
   * The quote locked at creation (migration 0014, docs/exchange-rates.md); all null for an
   * order without one, credited in `currency`. With one, `credit_minor` is in minor units of
   * `account_currency` (exponent `account_decimals`), and the fee stays in `currency`.
   */
  account_currency: string | null;
  account_decimals: number | null;
  /** The source's rate, decimal text (payment → account currency), before the markup. */
  fx_rate: string | null;
  /** The markup taken off the rate, basis points (the pair's plus the method's). */
  fx_markup_bps: number | null;
  /** What the markup kept of the credit, account minor units: of the quote, then of the credit. */
  fx_markup_minor: number | null;
  fx_source_kind: FxSourceKind | null;
  fx_source_id: string | null;
  /** The source's name when the quote was locked (a source may be renamed or deleted later). */
  fx_source_name: string | null;
  /** The rate's own time (an external answer's `time`, a manual rate's last change), Unix ms. */
  fx_rate_time: number | null;
  fx_quoted_at: number | null;
}

export type FxSourceKind = "manual" | "external";

/** A tenant's exchange-rate source (migration 0014). */
export interface FxSourcesTable {
  id: string;
  tenant_id: string;
  kind: FxSourceKind;
  name: string;
  /** External only: the tenant's exchange-rate API. */
  url: string | null;
  /** External only: the generated `key` header, encrypted (SecretBox). */
  key_enc: string | null;
  key_last4: string | null;
  timeout_ms: number;
  /** A rate older than this is not used; null (manual only): never stale. */
  ttl_seconds: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** One pair of a manual source (migration 0014). */
export interface FxManualRatesTable {
  source_id: string;
  from_currency: string;
  to_currency: string;
  tenant_id: string;
  /** Decimal text, at most 12 significant digits (protocol fx.ts). */
  rate: string;
  markup_bps: number;
  updated_at: number;
  updated_by: string | null;
}

export interface DepositEventsTable {
  id: string;
  tenant_id: string;
  deposit_id: string;
  /** created | api1_call | callback | status_change | ledger | manual | review */
  kind: string;
  /** JSON */
  data: string;
  created_at: number;
}

export interface CallbackLogsTable {
  id: string;
  tenant_id: string | null;
  integration_id: string | null;
  deposit_id: string | null;
  merchant_id: string | null;
  order_no: string | null;
  content_type: string | null;
  /** The raw body as received (never the headers, so never the token). Truncated to the cap. */
  raw_body: string;
  verdict: "accepted" | "duplicate" | "rejected" | "review";
  error_type: string | null;
  http_status: number;
  remote_addr: string | null;
  created_at: number;
  /**
   * Requests this row stands for: 1 (the column's default, so inserts may leave it out), or for
   * a summary of throttled requests (http_status 429) their count (migration 0007).
   */
  request_count?: number;
  /**
   * `callback` (API-2, the default), `status_query` (an API-3 answer; migration 0009),
   * `payout_callback` (API-5) or `payout_status_query` (its twin's answer; migration 0019).
   */
  source?: "callback" | "status_query" | "payout_callback" | "payout_status_query";
  /** The withdrawal an API-5 callback or payout status answer is about (migration 0019). */
  withdrawal_id?: string | null;
  /** The refusal's reason as the answer gave it (migration 0016; null: accepted, or older). */
  error_detail?: string | null;
  /** JSON `CallbackDiagnosis` (callbacks/callback-detail.ts): the check that failed, and its facts. */
  diagnosis?: string | null;
}

export interface ReviewItemsTable {
  id: string;
  tenant_id: string;
  deposit_id: string;
  callback_log_id: string | null;
  /** late_success | conflict | amount_mismatch */
  reason: string;
  /** One open item per deposit and reason: duplicates of the same late callback fold in. */
  dedupe_key: string;
  status: "open" | "resolved";
  resolution: string | null;
  resolved_by: string | null;
  comment: string | null;
  /** JSON: what the callback claimed (status, amount, transaction id) */
  data: string;
  created_at: number;
  resolved_at: number | null;
  /** Four eyes (migration 0009): the first admin's credit request, awaiting a second admin. */
  approval_requested_by: string | null;
  approval_requested_at: number | null;
  approval_comment: string | null;
}

export interface AuditLogTable {
  id: string;
  tenant_id: string;
  /** `operator`: the platform operator, recorded against the tenant it acted on (migration 0012). */
  actor_type: "user" | "api_key" | "system" | "client" | "operator";
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  /** JSON, secrets redacted */
  before: string | null;
  after: string | null;
  ip: string | null;
  created_at: number;
}

/** Login attempt counters shared by every process (migration 0005, modules/auth/login-throttle.ts). */
export interface LoginAttemptsTable {
  /** sha256 of the counter's scope and subject: never the typed e-mail itself */
  key: string;
  window_start: number;
  count: number;
}

/** One integration's figures for one minute (migration 0010, modules/integration-health). */
export interface IntegrationHealthMinutesTable {
  integration_id: string;
  /** Start of the minute, epoch ms. */
  minute: number;
  tenant_id: string;
  api1_ok: number;
  api1_failed: number;
  /** JSON: counts per latency bucket (modules/integration-health/histogram.ts). */
  api1_ok_latency: string;
  api1_failed_latency: string;
  urls_issued: number;
  cb_accepted: number;
  cb_duplicate: number;
  cb_rejected: number;
  cb_review: number;
  /** API-3 answers (callback_logs.source = status_query), apart from the callbacks. */
  status_answers: number;
  signature_failures: number;
  amount_mismatches: number;
  succeeded: number;
  failed: number;
  /** JSON: counts per duration bucket, from the order (API-1) to its final status. */
  time_to_final: string;
}

export interface IntegrationHealthStateTable {
  id: string;
  /** The rollup has re-derived every minute before this instant (epoch ms). */
  rolled_to: number;
}

/**
 * `webhook_failing` and `webhook_disabled` are a webhook endpoint's: its `integration_id` holds
 * the endpoint's id.
 */
/** `fx_rate_stale` is a rate source's: its `integration_id` holds the source's id. */
export type AlertKind =
  | "callback_silence"
  | "api1_failing"
  | "signature_failures"
  | "amount_mismatches"
  | "fx_rate_stale"
  | "webhook_failing"
  | "webhook_disabled";

export interface AlertsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  kind: AlertKind;
  status: "open" | "resolved";
  /** `integration_id:kind` while open, null once resolved: unique, so one open alert per pair. */
  open_key: string | null;
  opened_at: number;
  resolved_at: number | null;
  /** JSON: the figures that opened it */
  data: string;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
}

/** The platform operator, above tenants (migration 0012, modules/platform/). */
export interface PlatformOperatorsTable {
  id: string;
  /** Lower-case; unique. */
  email: string;
  name: string;
  password_hash: string;
  disabled: Bool01;
  created_at: number;
}

/** An operator's session: its own table, so no tenant session lookup can ever find one. */
export interface OperatorSessionsTable {
  /** SHA-256 of the session secret, as for `sessions`. */
  id_hash: string;
  operator_id: string;
  csrf_token: string;
  expires_at: number;
  created_at: number;
}

/** The API-1 circuit breaker of one integration (migration 0011, modules/api1-breaker). */
export interface Api1BreakersTable {
  integration_id: string;
  tenant_id: string;
  mode: "off" | "dry_run" | "on";
  state: "closed" | "open" | "half_open";
  opened_at: number | null;
  /** Why it opened: the window's figures as text. */
  reason: string | null;
  /** Half-open: the claimed probe's lease end. */
  probe_until: number | null;
  updated_at: number;
}

/** API-1 calls and failures of one integration in one bucket of the rolling window. */
export interface Api1BreakerBucketsTable {
  integration_id: string;
  bucket_at: number;
  calls: number;
  failures: number;
}

export interface Api1BreakerEventsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  at: number;
  kind: "opened" | "half_open" | "closed" | "closed_by_hand" | "would_refuse" | "mode";
  /** 1: happened in dry-run mode (nothing was refused). */
  dry_run: Bool01;
  /** JSON */
  detail: string | null;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  psp_integrations: PspIntegrationsTable;
  deposit_methods: DepositMethodsTable;
  clients: ClientsTable;
  wallets: WalletsTable;
  ledger_entries: LedgerEntriesTable;
  deposits: DepositsTable;
  deposit_events: DepositEventsTable;
  callback_logs: CallbackLogsTable;
  review_items: ReviewItemsTable;
  audit_log: AuditLogTable;
  login_attempts: LoginAttemptsTable;
  integration_health_minutes: IntegrationHealthMinutesTable;
  integration_health_state: IntegrationHealthStateTable;
  alerts: AlertsTable;
  fx_sources: FxSourcesTable;
  fx_manual_rates: FxManualRatesTable;
  platform_operators: PlatformOperatorsTable;
  operator_sessions: OperatorSessionsTable;
  api1_breakers: Api1BreakersTable;
  api1_breaker_buckets: Api1BreakerBucketsTable;
  api1_breaker_events: Api1BreakerEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_replays: WebhookReplaysTable;
  certify_runs: CertifyRunsTable;
  certify_orders: CertifyOrdersTable;
  certify_callbacks: CertifyCallbacksTable;
  certify_status: CertifyStatusTable;
  withdrawal_methods: WithdrawalMethodsTable;
  withdrawals: WithdrawalsTable;
  withdrawal_decisions: WithdrawalDecisionsTable;
  withdrawal_events: WithdrawalEventsTable;
}

/** A payout channel (migration 0018, modules/withdrawals). */
export interface WithdrawalMethodsTable {
  id: string;
  tenant_id: string;
  name: string;
  enabled: Bool01;
  sort_order: number;
  /** JSON: WithdrawalCurrency[] with minor-unit amounts as decimal strings. */
  currencies: string;
  /** JSON: WithdrawalField[]: what the client fills in (IBAN, wallet address…). */
  fields: string;
  visibility: "all" | "groups";
  /** JSON: string[] */
  client_groups: string;
  payout_mode: "manual" | "integration";
  integration_id: string | null;
  /** JSON: the approval policy, band amounts as decimal strings of minor units. */
  approval_policy: string;
  /** A failed payout: the hold goes back to the client, or stays for finance to decide. */
  failed_payout: "release" | "keep";
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WithdrawalsTable {
  id: string;
  tenant_id: string;
  /** The payout's public number (API-4's `payout_no`): 12 lower-case alphanumerics. */
  payout_no: string;
  client_id: string;
  wallet_id: string;
  method_id: string;
  currency: string;
  decimals: number;
  /** What leaves the wallet. */
  amount_minor: number;
  fee_minor: number;
  /** What the client receives: amount − fee. */
  payout_minor: number;
  /** JSON: the client's field values by key. */
  fields: string;
  status: "requested" | "approving" | "approved" | "paying" | "paid" | "failed" | "rejected" | "cancelled";
  levels_required: number;
  levels_done: number;
  /** Set when staff requested it for the client: that person never approves it. */
  requested_by_staff_id: string | null;
  idempotency_key: string | null;
  /** The reason shown to the client on a rejection. */
  client_reason: string | null;
  payout_reference: string | null;
  created_at: number;
  updated_at: number;
  /** The integration paying it out, fixed when the payout starts (migration 0019). */
  integration_id: string | null;
  /** The backend's own id of the payout (API-4's answer or API-5). */
  transaction_id: string | null;
  /** The payout job's due time: API-4 (again) while approved, the status query while paying. */
  payout_due: number | null;
  payout_step: number;
  /** Why finance must decide (schedule exhausted, failure with the hold kept…); null otherwise. */
  needs_assistance: string | null;
}

export interface WithdrawalDecisionsTable {
  id: string;
  tenant_id: string;
  withdrawal_id: string;
  level: number;
  decision: "approve" | "reject";
  staff_id: string;
  comment: string;
  created_at: number;
}

export interface WithdrawalEventsTable {
  id: string;
  tenant_id: string;
  withdrawal_id: string;
  kind: string;
  /** JSON */
  data: string;
  created_at: number;
}

/** An integration's conformance state (migration 0017): a live run, and its certification. */
export interface CertifyStatusTable {
  integration_id: string;
  tenant_id: string;
  /** While a run lives: until when its test orders may be called back. */
  live_until: number | null;
  /** The configuration hash of the last run that certified the integration (the badge). */
  certified_hash: string | null;
  certified_at: number | null;
  certified_run_id: string | null;
}

/** A conformance run from the back office (migration 0017, modules/certify). */
export interface CertifyRunsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  started_by: string | null;
  manual: Bool01;
  /** `interrupted`: its process stopped before it finished (seen as such once past its deadline). */
  status: "running" | "finished" | "interrupted";
  /** The integration's configuration hash when the run started (certify-config-hash.ts). */
  config_hash: string;
  started_at: number;
  finished_at: number | null;
  certified: Bool01 | null;
  passed: number | null;
  failed: number | null;
  skipped: number | null;
  /** JSON ManualPrompt[]: what the admin is asked to do on payment pages (manual mode). */
  prompts: string | null;
  /** JSON CertifyReport, once finished. */
  report: string | null;
  error: string | null;
}

/** A run's API-2 test order and the script its callbacks are answered by. */
export interface CertifyOrdersTable {
  integration_id: string;
  order_no: string;
  tenant_id: string;
  run_id: string;
  script: "accept" | "fail_first" | "refuse_other_amount";
  amount_minor: number;
  /** Callbacks received so far (the next one's `seq`). */
  received: number;
  created_at: number;
}

/** A callback of a test order, as received, and the answer given. */
export interface CertifyCallbacksTable {
  id: string;
  run_id: string;
  order_no: string;
  seq: number;
  received_at: number;
  raw_body: string;
  content_type: string | null;
  token: "current" | "previous" | "none";
  answer_status: number;
  answer_body: string;
}

/** A tenant's webhook receiver (migration 0015, modules/webhooks). */
export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  /** https (http and private addresses only with ALLOW_PRIVATE_APP_URLS), SSRF-guarded. */
  url: string;
  description: string;
  /** `*`, or the wanted types written `,a,b,` (membership is one substring test in SQL). */
  event_types: string;
  enabled: Bool01;
  disabled_reason: "manual" | "gone" | "failing" | null;
  disabled_at: number | null;
  /** The `whsec_…` secret, sealed (SecretBox). */
  secret_enc: string;
  /** During a rotation's overlap: the previous secret, which still signs until `previous_expires_at`. */
  previous_secret_enc: string | null;
  previous_expires_at: number | null;
  /** The first failed attempt since the last success; null while the endpoint succeeds. */
  failing_since: number | null;
  last_success_at: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** The outbox: one event, written in the transaction of the change it reports. */
export interface WebhookEventsTable {
  /** The `webhook-id`: `msg_…`, the same on every attempt and replay. */
  id: string;
  tenant_id: string;
  type: string;
  deposit_id: string | null;
  order_no: string | null;
  /** The order's event number (1, 2, …); null for events of no order. */
  seq: number | null;
  /** JSON: the body's `data`, without `sequence` (which is `seq`). */
  data: string;
  created_at: number;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

/** One event for one endpoint; its id is `{event_id}:{endpoint_id}`. */
export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  event_id: string;
  endpoint_id: string;
  /** The event's order and number, copied here so the claim keeps one order's events in order. */
  deposit_id: string | null;
  seq: number | null;
  status: WebhookDeliveryStatus;
  /** Attempts since it was (re)queued. */
  attempts: number;
  /** Pending: when it is due, or a claim's lease end; null otherwise (infra/jobs). */
  due_at: number | null;
  last_attempt_at: number | null;
  last_http_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

/** The delivery log: one HTTP attempt. */
export interface WebhookAttemptsTable {
  id: string;
  tenant_id: string;
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  attempt: number;
  /** JSON object of the headers sent. */
  request_headers: string;
  response_status: number | null;
  /** JSON object. */
  response_headers: string | null;
  /** The first KiB of the answer. */
  response_body: string | null;
  /** Why no HTTP answer came: timeout, refused address, connection error. */
  error: string | null;
  latency_ms: number;
  created_at: number;
}

/** A replay of a time range, or the recovery of a re-enabled endpoint, run in the background. */
export interface WebhookReplaysTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  kind: "replay" | "recover";
  from_at: number;
  to_at: number;
  event_type: string | null;
  /** 1: only events whose delivery to this endpoint failed or never happened. */
  only_failed: Bool01;
  state: "running" | "done" | "failed";
  /** The last event id queued (events are taken in id order). */
  cursor: string | null;
  total: number;
  done: number;
  /** The job claim's column (infra/jobs); null once finished. */
  due_at: number | null;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
}
