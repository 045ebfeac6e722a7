import {
  CALLBACK_ERROR_TYPES,
  type CallbackErrorType,
  isCallbackStatus,
  tryParseAmount,
  verifyDetailed,
} from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { safeEqual } from "../../infra/crypto/hashing.js";
import type { Db } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import {
  type ApplyOutcome,
  applyDepositResult,
  classifyResult,
  type ResultStatus,
} from "../deposits/apply-result.js";
import { insertDepositEvent, newEventId } from "../deposits/deposit-repo.js";
import { OPEN, statusFromCallback } from "../deposits/deposit-state.js";
import { callbackTokens, findCallbackIntegration } from "../psp-integrations/integration-repo.js";
import { keepReviewItem, type ReviewClaim, type ReviewReason } from "../review/review-repo.js";
import { readCallbackBody } from "./callback-body.js";
import { insertCallbackLog } from "./callback-log-repo.js";
import { type CallbackVerdict, claimOutcome, creditForPaid } from "./callback-outcome.js";

export type CallbackDeps = Pick<AppContext, "db" | "dbKind" | "clock" | "metrics" | "secretBox" | "logger">;

/** What arrived: the raw body as text, and the few request facts the log keeps. */
export type CallbackRequest = {
  rawBody: string | undefined;
  contentType: string | undefined;
  /** The `crm-pay-token` header. Compared, never stored or logged. */
  token: string | string[] | undefined;
  remoteAddr: string | null;
};

export type CallbackAnswer = { httpStatus: 204 } | { httpStatus: 400 | 413; type: CallbackErrorType };

/** The judgement of one callback, before it is recorded. */
type Judgement = {
  verdict: CallbackVerdict;
  errorType: CallbackErrorType | null;
  merchantId: string | null;
  orderNo: string | null;
  tenantId: string | null;
  integrationId: string | null;
  depositId: string | null;
  status: number | null;
  amount: string | null;
  review: { reason: ReviewReason; claim: ReviewClaim } | null;
  /**
   * When the callback arrived, and its timeline entry's id taken then: the entry sorts before
   * the status change and credit it causes, although it is written with or after them.
   */
  receivedAt: number;
  eventId: string;
};

/**
 * API-2 (spec "API-2: payment callback"): judge the callback, apply it through the one
 * idempotent `applyDepositResult`, and record it (log row, review item, timeline entry).
 * A callback that reaches the apply step is recorded inside that transaction, so the change and
 * its record commit together in one commit; one that is refused before, or whose transaction
 * rolled back on the ledger's unique guard, is recorded in a transaction of its own afterwards:
 * a rolled-back duplicate keeps its record (failure mode 4).
 * Throws only when storage fails: the route answers 500 and the tenant backend retries.
 */
export async function handleCallback(deps: CallbackDeps, req: CallbackRequest): Promise<CallbackAnswer> {
  const { judgement: j, recorded } = await judgeCallback(deps, req);
  if (!recorded) await deps.db.transaction().execute((trx) => recordCallback(trx, deps, req, j));
  const httpStatus = j.errorType ? CALLBACK_ERROR_TYPES[j.errorType].httpStatus : 204;
  deps.metrics.callbacks.inc({ verdict: j.verdict, type: j.errorType ?? "none" });
  return j.errorType ? { httpStatus: httpStatus as 400 | 413, type: j.errorType } : { httpStatus: 204 };
}

/** The callback's log row, its timeline entry and, when it asks for one, the review item. */
async function recordCallback(db: Db, deps: CallbackDeps, req: CallbackRequest, j: Judgement): Promise<void> {
  const now = deps.clock.now();
  const httpStatus = j.errorType ? CALLBACK_ERROR_TYPES[j.errorType].httpStatus : 204;
  const logId = await insertCallbackLog(db, {
    tenant_id: j.tenantId,
    integration_id: j.integrationId,
    deposit_id: j.depositId,
    merchant_id: j.merchantId,
    order_no: j.orderNo,
    content_type: req.contentType ?? null,
    raw_body: req.rawBody,
    verdict: j.verdict,
    error_type: j.errorType,
    http_status: httpStatus,
    remote_addr: req.remoteAddr,
    created_at: now,
  });
  if (!j.tenantId || !j.depositId) return;
  const at = { tenantId: j.tenantId, depositId: j.depositId, now };
  await insertDepositEvent(db, {
    ...at,
    id: j.eventId,
    now: j.receivedAt,
    event: {
      kind: "callback",
      data: {
        callbackLogId: logId,
        status: j.status,
        amount: j.amount,
        verdict: j.verdict,
        errorType: j.errorType,
      },
    },
  });
  if (!j.review) return;
  const kept = await keepReviewItem(db, {
    tenantId: j.tenantId,
    depositId: j.depositId,
    callbackLogId: logId,
    reason: j.review.reason,
    claim: j.review.claim,
    now,
  });
  if (kept.created) {
    await insertDepositEvent(db, {
      ...at,
      event: { kind: "review", data: { reviewItemId: kept.id, reason: j.review.reason } },
    });
  }
}

/**
 * Records a callback that never reached the handler (too large, unreadable): the body was not
 * read, so only the facts of the request are kept.
 */
export async function recordUnreadCallback(
  deps: Pick<CallbackDeps, "db" | "clock" | "metrics">,
  req: Omit<CallbackRequest, "rawBody" | "token">,
  type: "request_too_large" | "request_malformed",
): Promise<void> {
  await insertCallbackLog(deps.db, {
    tenant_id: null,
    integration_id: null,
    deposit_id: null,
    merchant_id: null,
    order_no: null,
    content_type: req.contentType ?? null,
    raw_body: "",
    verdict: "rejected",
    error_type: type,
    http_status: CALLBACK_ERROR_TYPES[type].httpStatus,
    remote_addr: req.remoteAddr,
    created_at: deps.clock.now(),
  });
  deps.metrics.callbacks.inc({ verdict: "rejected", type });
}

/** A judgement, and whether it was already recorded inside the apply transaction. */
type Judged = { judgement: Judgement; recorded: boolean };

/** The checks, in the spec's exact order; the first that fails decides the answer. */
async function judgeCallback(deps: CallbackDeps, req: CallbackRequest): Promise<Judged> {
  const judgement = await judgeBeforeApply(deps, req);
  return "apply" in judgement ? judgement.apply() : { judgement, recorded: false };
}

/** Checks 1–8 and the policy; a judgement, or the apply step still to run. */
async function judgeBeforeApply(
  deps: CallbackDeps,
  req: CallbackRequest,
): Promise<Judgement | { apply: () => Promise<Judged> }> {
  const j: Judgement = {
    verdict: "rejected",
    errorType: null,
    merchantId: null,
    orderNo: null,
    tenantId: null,
    integrationId: null,
    depositId: null,
    status: null,
    amount: null,
    review: null,
    receivedAt: deps.clock.now(),
    eventId: newEventId(),
  };
  const reject = (type: CallbackErrorType): Judgement => ({ ...j, verdict: "rejected", errorType: type });

  // 1. The body parses: one flat JSON object (or form), right types, mandatory keys.
  const read = readCallbackBody(req.rawBody, req.contentType);
  if (!read.ok) return reject("request_malformed");
  const cb = read.body.callback;
  j.merchantId = cb.merchantId;
  j.orderNo = cb.orderNo;
  j.status = cb.status;
  j.amount = cb.amountText;

  // 2. The integration, by merchant_id, enabled.
  const now = deps.clock.now();
  const integ = await findCallbackIntegration(deps.db, deps.secretBox, cb.merchantId, now);
  if (!integ?.enabled) return reject("psp_setting_not_found");
  j.tenantId = integ.tenant_id;
  j.integrationId = integ.id;

  // 3. The header token is one this integration accepts now (current, or previous in its grace
  //    period). Every candidate is compared in constant time; none short-circuits another.
  const header = req.token;
  let token: string | undefined;
  for (const candidate of callbackTokens(integ, now)) {
    if (typeof header === "string" && safeEqual(header, candidate)) token ??= candidate;
  }
  if (token === undefined) return reject("psp_token_invalid");

  // 4. The signature, over the raw body (its parameters as parsed from the raw text, numbers with
  //    their literal text), with the token that matched.
  const v = verifyDetailed(read.body.params, token, cb.sign, { literals: read.body.literals });
  if (!v.valid) {
    // The canonical string helps an integrator find their mistake (failure mode 10); it
    // holds the signed values but never the token.
    deps.logger.info(
      { merchantId: cb.merchantId, orderNo: cb.orderNo, reason: v.reason, stringA: v.stringA },
      "API-2 callback signature does not verify",
    );
    return reject("psp_token_invalid");
  }

  // 5. The order, under THIS integration: another integration's or tenant's order is unknown.
  //    One statement also answers step 6: its deposit method, if it still exists (soft delete
  //    keeps the row), joined on the same tenant.
  const dep = await deps.db
    .selectFrom("deposits as d")
    .leftJoin("deposit_methods as m", (join) =>
      join
        .onRef("m.id", "=", "d.method_id")
        .onRef("m.tenant_id", "=", "d.tenant_id")
        .on("m.deleted_at", "is", null),
    )
    .select([
      "d.id",
      "d.status",
      "d.currency",
      "d.decimals",
      "d.amount_minor",
      "d.fee_minor",
      "d.credit_minor",
      "m.id as live_method_id",
    ])
    .where("d.order_no", "=", cb.orderNo)
    .where("d.integration_id", "=", integ.id)
    .where("d.tenant_id", "=", integ.tenant_id)
    .executeTakeFirst();
  if (!dep) return reject("payment_not_found");
  j.depositId = dep.id;

  // 6. The order's deposit method still exists.
  if (dep.live_method_id === null) return reject("deposit_method_not_found");

  // 7. Currency.
  if (cb.currency !== dep.currency) return reject("payment_currency_not_allowed");

  // 8. Amount, in the order's minor units (never floating point), then the amount policy.
  const parsed = tryParseAmount(cb.amountText, dep.decimals);
  if (!parsed.ok) return reject("payment_amount_not_allowed");
  const paid = parsed.minor;
  const mismatch = paid !== BigInt(dep.amount_minor);
  const fee = BigInt(dep.fee_minor);
  // The credit a success earns: the order's, or, when another amount was paid and is credited
  // (policy credit_paid, or an admin crediting a held payment), paid minus the order's fee.
  const credit = mismatch ? creditForPaid(paid, fee) : BigInt(dep.credit_minor);
  const claim = (depositStatus: DepositStatus): ReviewClaim => ({
    status: cb.status,
    amount: cb.amountText,
    paidMinor: paid.toString(),
    creditMinor: credit.toString(),
    transactionId: cb.transactionId ?? null,
    time: cb.time,
    depositStatus,
  });
  if (mismatch && integ.amount_policy === "exact") {
    // Refused, but a reported payment is never lost: an admin sees it (unless already credited).
    const keep = cb.status === 1 && dep.status !== "succeeded";
    return {
      ...reject("payment_amount_not_allowed"),
      ...(keep ? { verdict: "review", review: { reason: "amount_mismatch", claim: claim(dep.status) } } : {}),
    };
  }

  // 9. Status: 0, 1 or 2, and allowed from the order's status.
  if (!isCallbackStatus(cb.status)) return reject("payment_status_not_allowed");
  const requested = statusFromCallback(cb.status) as ResultStatus;
  const common = {
    tenantId: integ.tenant_id,
    depositId: dep.id,
    paidAmountMinor: paid,
    ...(cb.transactionId !== undefined ? { transactionId: cb.transactionId } : {}),
    pspTime: cb.time,
    cause: "callback" as const,
  };

  const judged = (result: ApplyOutcome): Judgement => {
    const out = claimOutcome(requested, result);
    const current = result.kind === "conflict" || result.kind === "late" ? result.current : dep.status;
    return {
      ...j,
      verdict: out.verdict,
      errorType: out.errorType,
      review: out.review ? { reason: out.review, claim: claim(current) } : null,
    };
  };
  if (mismatch && integ.amount_policy === "review" && requested === "succeeded" && OPEN.has(dep.status)) {
    // Policy `review`: hold the order (pending → processing) and let an admin decide.
    return {
      apply: async () => {
        const held = await applyDepositResult(deps, { ...common, to: "processing" });
        if (held.kind === "applied" || held.kind === "repeat") {
          const review = { reason: "amount_mismatch" as const, claim: claim(dep.status) };
          return { judgement: { ...j, verdict: "review", review }, recorded: false };
        }
        // The order moved on meanwhile: judge the success against where it is now.
        return { judgement: judged(classifyResult(held.current, "succeeded")), recorded: false };
      },
    };
  }

  return {
    apply: async () => {
      let inTx: Judgement | undefined;
      const result = await applyDepositResult(
        deps,
        {
          ...common,
          to: requested,
          ...(requested === "succeeded" ? { creditMinor: credit } : {}),
          ...(requested === "failed" ? { failureReason: "psp_reported_failure" } : {}),
        },
        async (trx, outcome) => {
          const judgement = judged(outcome);
          await recordCallback(trx, deps, req, judgement);
          inTx = judgement;
        },
      );
      // `inTx` is unset only when the transaction rolled back on the ledger guard (a duplicate).
      return inTx ? { judgement: inTx, recorded: true } : { judgement: judged(result), recorded: false };
    },
  };
}
