import { CALLBACK_ERROR_TYPES, type CallbackErrorType, type ParsedCallback } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { isUniqueViolation, writeTransaction } from "../../infra/db/database.js";
import { checkSign, matchIntegration, verifyWithAnyToken } from "../callbacks/callback-auth.js";
import { readCallbackBody } from "../callbacks/callback-body.js";
import { bodyRefused, integrationNotFound, type Refusal, signRefused } from "../callbacks/callback-detail.js";
import type { FloodGuard } from "../callbacks/callback-flood-log.js";
import { insertCallbackLog, refusedBodyPrefix } from "../callbacks/callback-log-repo.js";
import type { CallbackVerdict } from "../callbacks/callback-outcome.js";
import { type CallbackAnswer, type CallbackRequest, certifyAnswer } from "../callbacks/handle-callback.js";
import type { CallbackIntegration } from "../psp-integrations/integration-repo.js";
import { applyPayoutResult, type PayoutCause } from "../withdrawals/settle-payout.js";
import { createWithdrawalRepo } from "../withdrawals/withdrawal-repo.js";
import { judgePayoutResult } from "./payout-judge.js";

/**
 * API-5, the payout callback (docs/psp-open-api.md#api-5), and the payout status answer judged
 * the same way. Checks 1–4 are API-2's (callback-auth.ts); then the payout under this
 * integration, and the result judged (payout-judge.ts) and applied (payout-settlement.ts) in
 * one transaction with its log row and timeline entry. Nothing is lost: every callback, refused
 * or not, is in the integration's callback log, and a result that contradicts a final one flags
 * the withdrawal for finance.
 */

export type PayoutCallbackDeps = Pick<
  AppContext,
  "db" | "clock" | "metrics" | "callbackIntegrations" | "logger"
>;

type Reported = {
  integ: CallbackIntegration;
  cb: ParsedCallback;
  rawBody: string;
  contentType: string | null;
  remoteAddr: string | null;
  source: "payout_callback" | "payout_status_query";
  /** The backend's HTTP status, for a status answer. */
  httpStatus?: number;
  /** A status answer must be about the payout asked about. */
  expectId?: string;
};

export type PayoutJudged = {
  verdict: CallbackVerdict;
  errorType: CallbackErrorType | null;
  detail: string | null;
  withdrawalId: string | null;
  callbackLogId: string;
  /** The payout is paid or failed now (or was already). */
  final: boolean;
};

const answerOf = (j: { errorType: CallbackErrorType | null; detail: string | null }): CallbackAnswer =>
  j.errorType === null
    ? { httpStatus: 204 }
    : {
        httpStatus: CALLBACK_ERROR_TYPES[j.errorType].httpStatus as 400 | 413,
        type: j.errorType,
        ...(j.detail ? { detail: j.detail } : {}),
      };

/** The handler of `POST /api/psp/payout/callback`. */
export function createPayoutCallbackHandler(deps: PayoutCallbackDeps, flood?: FloodGuard) {
  return async (req: CallbackRequest): Promise<CallbackAnswer> => {
    const now = deps.clock.now();
    const refuse = async (
      type: CallbackErrorType,
      why: Refusal,
      at: { integ?: CallbackIntegration; merchantId?: string; payoutNo?: string; tokenMatched?: boolean },
    ): Promise<CallbackAnswer> => {
      if (!at.tokenMatched) {
        const retryAfterSeconds =
          flood?.refuse({
            remoteAddr: req.remoteAddr,
            contentType: req.contentType,
            rawBody: req.rawBody,
            errorType: type,
            integration:
              at.integ && at.merchantId
                ? { tenantId: at.integ.tenant_id, integrationId: at.integ.id, merchantId: at.merchantId }
                : null,
          }) ?? null;
        if (retryAfterSeconds !== null) {
          deps.metrics.callbacks.inc({ verdict: "throttled", type });
          return { httpStatus: 429, type, retryAfterSeconds };
        }
      }
      await insertCallbackLog(deps.db, {
        source: "payout_callback",
        tenant_id: at.integ?.tenant_id ?? null,
        integration_id: at.integ?.id ?? null,
        deposit_id: null,
        withdrawal_id: null,
        merchant_id: at.merchantId ?? null,
        order_no: at.payoutNo ?? null,
        content_type: req.contentType ?? null,
        raw_body: refusedBodyPrefix(req.rawBody),
        verdict: "rejected",
        error_type: type,
        error_detail: why.detail,
        diagnosis: JSON.stringify(why.diagnosis),
        http_status: CALLBACK_ERROR_TYPES[type].httpStatus,
        remote_addr: req.remoteAddr,
        created_at: now,
      });
      deps.metrics.callbacks.inc({ verdict: "rejected", type });
      return answerOf({ errorType: type, detail: why.detail });
    };

    // 1. The body: API-2's shape with payout_no.
    const read = readCallbackBody(req.rawBody, req.contentType, "payout_no");
    if (!read.ok) return refuse("request_malformed", bodyRefused(read.message), {});
    const cb = read.body.callback;
    const at = { merchantId: cb.merchantId, payoutNo: cb.orderNo };
    // 2–3. The integration and the header token.
    const match = await matchIntegration(deps, cb.merchantId, req.token, now);
    if (!match.ok)
      return refuse(match.type, match.why, { ...at, ...(match.integ ? { integ: match.integ } : {}) });
    // A conformance run's test payout goes to the run.
    const test = await certifyAnswer(deps, match.integ, match.token, cb.orderNo, req, now);
    if (test) return test;
    // 4. The sign.
    const bad = checkSign(deps, read.body, match.token, {
      api: "API-5",
      merchantId: cb.merchantId,
      number: cb.orderNo,
    });
    if (bad) return refuse("psp_token_invalid", bad, { ...at, integ: match.integ, tokenMatched: true });

    const j = await settleReported(deps, {
      integ: match.integ,
      cb,
      rawBody: req.rawBody ?? "",
      contentType: req.contentType ?? null,
      remoteAddr: req.remoteAddr,
      source: "payout_callback",
    });
    deps.metrics.callbacks.inc({ verdict: j.verdict, type: j.errorType ?? "none" });
    return answerOf(j);
  };
}

/**
 * A payout status answer's `data` (docs/psp-open-api.md#payout-status-query), judged as an API-5
 * callback: the integration asked, its sign with every token the integration accepts now (each
 * tried in full), the payout asked about. Refused answers are logged and settle nothing.
 */
export async function judgePayoutAnswer(
  deps: PayoutCallbackDeps,
  dataText: string,
  asked: {
    tenantId: string;
    integrationId: string;
    withdrawalId: string;
    payoutNo: string;
    httpStatus: number;
  },
): Promise<PayoutJudged & { refused: boolean }> {
  const now = deps.clock.now();
  const refused = async (type: CallbackErrorType, why: Refusal) => {
    const id = await insertCallbackLog(deps.db, {
      source: "payout_status_query",
      tenant_id: asked.tenantId,
      integration_id: asked.integrationId,
      deposit_id: null,
      withdrawal_id: asked.withdrawalId,
      merchant_id: null,
      order_no: asked.payoutNo,
      content_type: "application/json",
      raw_body: refusedBodyPrefix(dataText),
      verdict: "rejected",
      error_type: type,
      error_detail: why.detail,
      diagnosis: JSON.stringify(why.diagnosis),
      http_status: asked.httpStatus,
      remote_addr: null,
      created_at: now,
    });
    return {
      verdict: "rejected" as const,
      errorType: type,
      detail: why.detail,
      withdrawalId: asked.withdrawalId,
      callbackLogId: id,
      final: false,
      refused: true,
    };
  };
  const read = readCallbackBody(dataText, "application/json", "payout_no");
  if (!read.ok) return refused("request_malformed", bodyRefused(read.message));
  const cb = read.body.callback;
  const integ = await deps.callbackIntegrations.find(cb.merchantId, now);
  if (!integ?.enabled || integ.id !== asked.integrationId || integ.tenant_id !== asked.tenantId)
    return refused("psp_setting_not_found", integrationNotFound());
  const signed = verifyWithAnyToken(read.body, integ, now);
  if (!signed.valid) return refused("psp_token_invalid", signRefused(signed.first));
  if (cb.orderNo !== asked.payoutNo)
    return refused("payment_not_found", {
      detail: "the answer is about another payout",
      diagnosis: { check: "order" },
    });
  const j = await settleReported(deps, {
    integ,
    cb,
    rawBody: dataText,
    contentType: "application/json",
    remoteAddr: null,
    source: "payout_status_query",
    httpStatus: asked.httpStatus,
    expectId: asked.withdrawalId,
  });
  return { ...j, refused: false };
}

/**
 * Checks 5–8 and the apply step, with the log row and timeline entry, in one transaction. Run
 * again once when it lost a race on the ledger's unique index (another process applied the same
 * result first): the second run finds it applied and records a repeat.
 */
async function settleReported(deps: PayoutCallbackDeps, r: Reported): Promise<PayoutJudged> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeTransaction(deps.db, (trx) => settleIn(deps, trx, r));
    } catch (err) {
      if (attempt >= 3 || !isUniqueViolation(err)) throw err;
    }
  }
}

async function settleIn(
  deps: PayoutCallbackDeps,
  trx: Parameters<Parameters<typeof writeTransaction>[1]>[0],
  r: Reported,
): Promise<PayoutJudged> {
  const now = deps.clock.now();
  const repo = createWithdrawalRepo(trx);
  const { integ, cb } = r;
  const found = await repo.byPayoutNo(cb.orderNo);
  // 5. The payout, under THIS integration: another integration's or tenant's is unknown.
  const w =
    found &&
    found.integration_id === integ.id &&
    found.tenant_id === integ.tenant_id &&
    (r.expectId === undefined || found.id === r.expectId)
      ? found
      : undefined;
  let verdict: CallbackVerdict = "rejected";
  let errorType: CallbackErrorType | null = null;
  let detail: string | null = null;
  let final = false;
  if (!w) {
    errorType = "payment_not_found";
    detail = `no payout \`${cb.orderNo.slice(0, 64)}\` under this integration`;
  } else {
    const method = await repo.method(w.tenant_id, w.method_id);
    const judged = judgePayoutResult(
      { status: w.status, currency: w.currency, decimals: w.decimals, payoutMinor: BigInt(w.payout_minor) },
      { currency: cb.currency, amountText: cb.amountText, status: cb.status },
    );
    if (judged.kind === "refuse") {
      errorType = judged.type;
      detail = judged.detail;
      if (judged.contradiction) {
        verdict = "review";
        if (w.needs_assistance === null) {
          await repo.setPayout(w.tenant_id, w.id, { needs_assistance: "contradicting_result" }, {}, now);
          await repo.addEvent(w.tenant_id, w.id, "needs_assistance", { why: "contradicting_result" }, now);
        }
      }
      final = w.status === "paid" || w.status === "failed";
    } else {
      const cause: PayoutCause = r.source === "payout_callback" ? "callback" : "status_query";
      const outcome =
        judged.kind === "repeat"
          ? "repeat"
          : await applyPayoutResult(trx, w, method ?? { failedPayout: "release" }, {
              to: judged.to,
              cause,
              transactionId: cb.transactionId ?? null,
              reason: judged.to === "failed" ? "psp_reported_failure" : null,
              now,
            });
      verdict = outcome === "applied" ? "accepted" : "duplicate";
      final = cb.status === 0 || cb.status === 1;
    }
  }
  const callbackLogId = await insertCallbackLog(trx, {
    source: r.source,
    tenant_id: integ.tenant_id,
    integration_id: integ.id,
    deposit_id: null,
    withdrawal_id: w?.id ?? null,
    merchant_id: cb.merchantId,
    order_no: cb.orderNo,
    content_type: r.contentType,
    raw_body: r.rawBody,
    verdict,
    error_type: errorType,
    error_detail: detail,
    diagnosis: null,
    http_status: r.httpStatus ?? (errorType ? CALLBACK_ERROR_TYPES[errorType].httpStatus : 204),
    remote_addr: r.remoteAddr,
    created_at: now,
  });
  if (w)
    await repo.addEvent(
      w.tenant_id,
      w.id,
      r.source === "payout_callback" ? "api5" : "payout_status_query",
      {
        status: cb.status,
        amount: cb.amountText,
        transactionId: cb.transactionId ?? null,
        verdict,
        errorType,
        callbackLogId,
      },
      now,
    );
  return { verdict, errorType, detail, withdrawalId: w?.id ?? null, callbackLogId, final };
}
