import { createHash } from "node:crypto";
import { ProtocolError } from "@psphub/protocol";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { newId, newOrderNo } from "../../common/ids.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import { parseInput } from "../../common/validation.js";
import { encodeJson, toBool, toDbMinor, writeTransaction } from "../../infra/db/database.js";
import type { DepositsTable, PspIntegrationsTable } from "../../infra/db/schema.js";
import type { GuardedClient } from "../../infra/http-out/guarded-client.js";
import { methodTemporarilyUnavailable } from "../api1-breaker/breaker-errors.js";
import { backendVerdict } from "../api1-breaker/breaker-policy.js";
import { NO_QUOTE } from "../fx-quotes/locked-quote.js";
import { lockQuote } from "../fx-quotes/quote-deposit.js";
import { type LockedQuote, quoteColumns } from "../fx-quotes/quote-model.js";
import { assertTenantActive } from "../platform/tenant-suspension.js";
import { settle } from "../settlement/settle.js";
import { dueAt, scheduleOf } from "../status-query/status-query-schedule.js";
import {
  type Api1Outcome,
  api1Url,
  buildApi1Request,
  interpretApi1Answer,
  PROVIDER_UNAVAILABLE_MESSAGE,
  truncateBody,
} from "./api1-request.js";
import type { CreatedDepositRow, DepositClient } from "./create-deposit-repo.js";
import type { CreatedEventQuote } from "./deposit-events.js";
import {
  type DepositRow,
  findDepositById,
  findDepositByIdempotencyKey,
  type MethodWithIntegration,
  type NewDepositEvent,
} from "./deposit-repo.js";
import { validateDepositRequest } from "./deposit-validation.js";
import { type CreateDepositView, createDepositView, money } from "./deposit-view.js";

/**
 * Creating a deposit (docs/psp-open-api.md#payment-flow, docs/psp-open-api.md#api-1):
 *
 * 1. parse the input; with an idempotency key already used, answer the stored order (same
 *    content) or 409 (different content) without touching anything;
 * 2. validate against the method (pure, deposit-validation.ts);
 * 3. in one short transaction: insert-or-ignore the order (status pending) and its `created`
 *    event; a concurrent request with the same key that lost the race reads the winner back;
 *    the insert only happens while the method still gives the currency the decimals read in 2
 *    (create-deposit-repo.ts), else 409 `method_changed`: send again;
 * 4. with NO transaction open, call API-1 through the SSRF-guarded client;
 * 5. in a second short transaction: log the call (`api1_call`) and either store the payment
 *    URL or fail the order with a conditional update (`where status = 'pending'`), so a callback
 *    that raced ahead is never overwritten.
 *
 * A timeout with unknown outcome fails this order and never creates another; the same key
 * answers the same (failed) order (docs/failure-modes.md#failure-mode-8).
 */

export type DepositActor =
  | { kind: "client"; tenantId: string; clientId: string }
  | { kind: "staff"; tenantId: string; actorType: "user" | "api_key"; actorId: string };

export type CreateDepositDeps = Pick<
  AppContext,
  | "db"
  | "clock"
  | "config"
  | "logger"
  | "depositWriter"
  | "api1Tokens"
  | "api1Breakers"
  | "secretBox"
  | "fxRates"
> &
  Partial<Pick<AppContext, "metrics">> & {
    /** Outbound client for API-1; built from config.allowPrivateAppUrls by the routes. */
    httpOut: GuardedClient;
  };

export const IDEMPOTENCY_KEY_MAX = 100;

export const createDepositInput = z.object({
  /** Required for staff (the client the deposit is for); ignored for a client actor. */
  clientId: z.string().min(1).max(64).optional(),
  methodId: z.string().min(1).max(64),
  currency: z.string().min(1).max(12),
  /** Plain decimal text: "100.50", "100". Never a float, never exponent notation. */
  amount: plainDecimal,
  fields: z
    .record(z.string().min(1).max(64), z.string().max(1000))
    .refine((f) => Object.keys(f).length <= 50, "at most 50 fields")
    .default({}),
  device: z.enum(["mobile", "pc"]).optional(),
  language: z
    .string()
    .max(35)
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, "must be a language tag like en-us or de")
    .optional(),
  idempotencyKey: z
    .string()
    .min(1)
    .max(IDEMPOTENCY_KEY_MAX)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: printable keys only
    .regex(/^[^\u0000-\u001f\u007f]+$/, "must be printable text")
    .optional(),
  /**
   * A quote's token (POST …/deposit-quote): the order locks exactly that quote. Not part of the
   * request's content for its idempotency key (requestHash), so a retry with a fresh quote is
   * the same request.
   */
  quoteToken: z.string().min(1).max(4000).optional(),
});
export type CreateDepositInput = z.input<typeof createDepositInput>;

/** JSON with object keys sorted at every level: one text per content. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** sha256 of the canonical request content: what "the same request" means for an idempotency key. */
export function requestHash(clientId: string, input: z.output<typeof createDepositInput>): string {
  const content = {
    clientId,
    methodId: input.methodId,
    currency: input.currency,
    amount: input.amount,
    fields: input.fields,
    device: input.device ?? null,
    language: input.language ?? null,
  };
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}

function replayOrConflict(existing: DepositRow, hash: string): CreateDepositView {
  if (existing.request_hash !== hash) {
    throw new ConflictError(
      "This Idempotency-Key was already used for a different deposit request",
      "idempotency_key_reused",
      { orderNo: existing.order_no },
    );
  }
  return createDepositView(existing, true);
}

export async function createDeposit(
  deps: CreateDepositDeps,
  actor: DepositActor,
  input: CreateDepositInput,
): Promise<CreateDepositView> {
  const data = parseInput(createDepositInput, input);
  const tenantId = actor.tenantId;
  // A client's session of a suspended tenant was refused before this request reached here
  // (http/access.ts, the session lookup reads the suspension); staff sessions are not.
  if (actor.kind !== "client") await assertTenantActive(deps.db, tenantId);
  const clientId = actor.kind === "client" ? actor.clientId : data.clientId;
  if (!clientId)
    throw new ValidationError("The input is invalid", [{ path: "clientId", message: "is required" }]);
  const hash = requestHash(clientId, data);
  const key = data.idempotencyKey ?? null;

  if (key !== null) {
    const existing = await findDepositByIdempotencyKey(deps.db, tenantId, clientId, key);
    if (existing) return replayOrConflict(existing, hash);
  }

  // The client, the method and its integration in one query.
  const found = await deps.depositWriter.findContext({
    tenantId,
    clientId,
    methodId: data.methodId,
  });
  if (!found) throw new NotFoundError("Client");
  const { client, methodWithIntegration: mi } = found;
  // Staff cannot deposit for a disabled client either: disabling stops new money, not old.
  if (client.disabled === 1) throw new ConflictError("The client is disabled", "client_disabled");
  const v = validateDepositRequest(mi, client.client_group, data);
  // validateDepositRequest threw unless the method is usable.
  const m = mi as MethodWithIntegration;

  // The quote is locked before the breaker is asked (a refused rate must not spend its probe)
  // and before anything is written: a refusal creates nothing.
  const quote = await lockQuote(
    deps,
    {
      tenantId,
      clientId,
      methodId: m.method.id,
      clientGroup: client.client_group,
      currency: v.currency,
      amountMinor: v.amountMinor,
      feeMinor: v.feeMinor,
    },
    data.quoteToken,
  );
  // The fee is the quote's (the payment side it showed); without one, the method's now.
  const feeMinor = quote?.feeMinor ?? v.feeMinor;
  const creditMinor = quote?.accountMinor ?? v.creditMinor;

  const now = deps.clock.now();
  // The integration's API-1 breaker (modules/api1-breaker): while it is open, refused at once,
  // before any order exists, instead of failing after a timeout.
  const breaker = { integrationId: m.integration.id, tenantId, timeoutMs: m.integration.api1TimeoutMs };
  const admission = await deps.api1Breakers.admit(breaker, now, { methodId: m.method.id, clientId });
  if (admission.kind === "refuse") throw methodTemporarilyUnavailable(admission.retryAfterSeconds);
  const row: DepositsTable = {
    id: newId(),
    tenant_id: tenantId,
    order_no: newOrderNo(),
    client_id: clientId,
    method_id: m.method.id,
    integration_id: m.integration.id,
    currency: v.currency.code,
    decimals: v.currency.decimals,
    amount_minor: toDbMinor(v.amountMinor),
    fee_minor: toDbMinor(feeMinor),
    // With a quote: the account side, in minor units of the account currency.
    credit_minor: toDbMinor(creditMinor),
    // The fee rule as it is now, kept with the order: a paid amount's fee is computed with it later.
    fee_rule_bps: v.currency.feePercentBps,
    fee_rule_fixed_minor: toDbMinor(v.currency.feeFixedMinor),
    fee_rule_max_minor: v.currency.feeMaxMinor === null ? null : toDbMinor(v.currency.feeMaxMinor),
    paid_amount_minor: null,
    status: "pending",
    fields: encodeJson(v.fields),
    device: data.device ?? null,
    language: (data.language ?? client.language ?? null)?.toLowerCase() ?? null,
    idempotency_key: key,
    request_hash: hash,
    payment_url: null,
    failure_reason: null,
    failure_message: null,
    transaction_id: null,
    psp_time: null,
    created_by: actor.kind === "staff" ? actor.actorId : null,
    expires_at: now + m.method.orderTtlSeconds * 1000,
    created_at: now,
    updated_at: now,
    finalized_at: null,
    status_query_due_at: null,
    status_query_step: 0,
    ...(quote ? quoteColumns(quote) : NO_QUOTE),
  };

  // The order and its `created` event, committed (with the orders of other requests that arrived
  // meanwhile: group commit, create-deposit-repo.ts) before anything else happens.
  const inserted = await deps.depositWriter.insert(row, {
    tenantId,
    depositId: row.id,
    now,
    event: {
      kind: "created",
      data: {
        by: actor.kind,
        actorId: actor.kind === "staff" ? actor.actorId : clientId,
        amount: money(v.amountMinor, v.currency.decimals),
        currency: v.currency.code,
        fee: money(feeMinor, v.currency.decimals),
        ...(quote ? { quote: createdQuote(quote) } : {}),
      },
    },
  });
  if (!inserted) {
    // Lost a race with a concurrent request carrying the same key: answer what it stored.
    const winner =
      key === null ? undefined : await findDepositByIdempotencyKey(deps.db, tenantId, clientId, key);
    if (winner) return replayOrConflict(winner, hash);
    // No order holds the key: the insert's guard refused this one, since the method changed
    // after it was read (its currency's decimals, or it was deleted). Nothing was created.
    throw new ConflictError(
      "The deposit method changed while the order was being created: nothing was created; send the request again",
      "method_changed",
    );
  }

  // The transaction above is committed: from here on nothing holds a database transaction
  // while the tenant backend is called.
  // The answer is the order as the API-1 step's own update left it (RETURNING); only when that
  // update did not apply (a callback or a cancel got there first) is the order read back.
  const recorded = await callApi1(deps, row, v.fields, m, client, admission.probe);
  const after = recorded ?? (await findDepositById(deps.db, tenantId, row.id));
  return createDepositView(after ?? row, false);
}

/** The quote as the `created` timeline entry keeps it. */
function createdQuote(q: LockedQuote): NonNullable<CreatedEventQuote> {
  return {
    accountAmount: money(q.accountMinor, q.accountDecimals),
    accountCurrency: q.accountCurrency,
    rate: q.rate,
    markupBps: q.markupBps,
    markupAmount: money(q.markupMinor, q.accountDecimals),
    sourceKind: q.sourceKind,
    sourceName: q.sourceName,
    rateTime: q.rateTime,
    quotedAt: q.quotedAt,
    validUntil: q.validUntil,
  };
}

/** `text` with every occurrence of the integration's token replaced (never stored or logged). */
export function redactToken(text: string, token: string | undefined): string {
  return token ? text.replaceAll(token, "[redacted]") : text;
}

/**
 * API-1 for a freshly inserted order, then its recording. Never throws for the tenant's faults.
 * Returns the order as the recording's update left it, `undefined` if that update did not apply.
 */
async function callApi1(
  deps: CreateDepositDeps,
  row: DepositsTable,
  fields: Readonly<Record<string, string>>,
  m: MethodWithIntegration,
  client: DepositClient,
  probe: boolean,
): Promise<CreatedDepositRow | undefined> {
  const integration = m.integration;
  const url = api1Url(integration.appUrl);
  let sent: Record<string, unknown> = {};
  let outcome: Api1Outcome;
  let httpStatus: number | null = null;
  let response: string | null = null;
  let latencyMs = 0;
  let token: string | undefined;
  try {
    token = deps.api1Tokens.open(m.integrationRow.token_enc);
    const req = buildApi1Request(
      {
        merchantId: integration.merchantId,
        orderNo: row.order_no,
        amountMinor: BigInt(row.amount_minor),
        decimals: row.decimals,
        currency: row.currency,
        userId: client.id,
        userName: client.name,
        email: client.email,
        phone: client.phone,
        nationality: client.nationality,
        language: row.language,
        device: row.device,
        custom: fields,
      },
      integration.paramConfig,
      token,
    );
    sent = req.sent;
    const res = await deps.httpOut.request({
      url,
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "crm-pay-token": token,
      },
      body: req.bodyText,
      timeoutMs: integration.api1TimeoutMs,
    });
    latencyMs = res.latencyMs;
    if (res.ok) {
      httpStatus = res.status;
      // Redacted before truncating, so no prefix of the token survives the cut.
      response = truncateBody(redactToken(res.bodyText, token));
    }
    outcome = interpretApi1Answer(res, { allowHttp: deps.config.allowHttpPaymentUrls });
    // A tenant backend that echoes the crm-pay-token header (a debug page, a proxy error) must
    // not get it stored in the api1_call event (above), the admin's reason or the client's message.
    if (!outcome.ok) {
      outcome = {
        ...outcome,
        reason: redactToken(outcome.reason, token),
        clientMessage: redactToken(outcome.clientMessage, token),
      };
    }
  } catch (err) {
    // A configuration the protocol refuses (two values on one key) or an unreadable token: the
    // order must still end (failed), never stay pending with the client left without an answer.
    const config = err instanceof ProtocolError;
    if (!config) deps.logger.error({ err, orderNo: row.order_no }, "api1 call could not be made");
    outcome = {
      ok: false,
      reason: config ? `config_error: ${err.message}` : "internal_error",
      clientMessage: PROVIDER_UNAVAILABLE_MESSAGE,
      declined: false,
    };
  }

  const recorded = await recordApi1Outcome(
    deps,
    deps.clock.now(),
    row,
    {
      url,
      request: sent,
      httpStatus,
      response,
      latencyMs,
      outcome,
    },
    m.integrationRow,
  );
  const breaker = {
    integrationId: row.integration_id,
    tenantId: row.tenant_id,
    timeoutMs: integration.api1TimeoutMs,
  };
  await deps.api1Breakers.record(breaker, backendVerdict(outcome), probe, deps.clock.now());
  deps.metrics?.api1Calls.observe({ outcome: outcome.ok ? "ok" : "failed" }, latencyMs / 1000);
  const log = {
    orderNo: row.order_no,
    depositId: row.id,
    integrationId: row.integration_id,
    outcome: outcome.ok ? "ok" : "failed",
    reason: outcome.ok ? undefined : outcome.reason,
    httpStatus,
    latencyMs,
  };
  if (outcome.ok) deps.logger.info(log, "api1 call succeeded");
  else deps.logger.warn(log, "api1 call failed");
  return recorded;
}

/**
 * The second short transaction: the api1_call event, then the URL or the failure. Returns the
 * order as its conditional update left it, `undefined` when that update did not apply.
 */
async function recordApi1Outcome(
  deps: Pick<CreateDepositDeps, "db" | "depositWriter">,
  now: number,
  row: DepositsTable,
  call: {
    url: string;
    request: Record<string, unknown>;
    httpStatus: number | null;
    response: string | null;
    latencyMs: number;
    outcome: Api1Outcome;
  },
  integration: Pick<PspIntegrationsTable, "status_query_enabled" | "status_query_schedule">,
): Promise<CreatedDepositRow | undefined> {
  const { outcome } = call;
  const event: NewDepositEvent = {
    tenantId: row.tenant_id,
    depositId: row.id,
    now,
    event: {
      kind: "api1_call",
      data: {
        url: call.url,
        request: call.request,
        httpStatus: call.httpStatus,
        response: call.response,
        latencyMs: call.latencyMs,
        outcome: outcome.ok ? "ok" : "failed",
        ...(outcome.ok ? { paymentUrl: outcome.paymentUrl } : { reason: outcome.reason }),
      },
    },
  };
  if (outcome.ok) {
    const url = outcome.paymentUrl;
    // API-3 on: the order's first status query, counted from now (docs/psp-open-api.md#api-3-status-query).
    const queryDueAt = toBool(integration.status_query_enabled)
      ? dueAt(scheduleOf(integration.status_query_schedule), 0, now, Math.random())
      : null;
    return deps.depositWriter.setPaymentUrl(
      { tenantId: row.tenant_id, id: row.id, url, now, queryDueAt },
      event,
    );
  }
  // The failure goes through the settlement's guarded transition, from `pending` only: a
  // callback that raced ahead is never overwritten.
  const failed = await writeTransaction(deps.db, async (trx) => {
    const { value } = await settle(trx, { clock: { now: () => now } }, { ids: [row.id] }, (planner) => ({
      value: planner.apply({
        tenantId: row.tenant_id,
        depositId: row.id,
        to: "failed",
        cause: "api1",
        onlyFrom: ["pending"],
        failureReason: outcome.reason,
        failureMessage: outcome.clientMessage,
      }),
      records: { events: [event] },
    }));
    return value.kind === "applied";
  });
  if (!failed) return undefined;
  return {
    id: row.id,
    order_no: row.order_no,
    status: "failed",
    payment_url: row.payment_url,
    failure_reason: outcome.reason,
    failure_message: outcome.clientMessage,
  };
}
