import { signStatusQuery } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import type { GuardedClient } from "../../infra/http-out/guarded-client.js";
import type { CallbackVerdict } from "../callbacks/callback-outcome.js";
import { judgeStatusAnswer } from "../callbacks/handle-callback.js";
import { redactToken } from "../deposits/create-deposit.js";
import { type NewDepositEvent, newEventId } from "../deposits/deposit-repo.js";
import type { QueryResultKind } from "./status-query-plan.js";
import {
  findQueryTarget,
  INVALID_ANSWER_ERROR,
  ORDER_NOT_FOUND_ERROR,
  type QueryTarget,
  recordQueryEvent,
  recordUnjudgedAnswer,
} from "./status-query-repo.js";
import { interpretStatusResponse, statusQueryUrl } from "./status-query-request.js";

/**
 * One API-3 status query (docs/psp-open-api.md#api-3-status-query), whatever triggered it: the
 * signed request through the SSRF-guarded client with NO transaction open, then its answer
 * judged and applied exactly as an API-2 callback (handle-callback.ts, `judgeStatusAnswer`), and
 * the query's `status_query` timeline entry written with it. Never throws for the backend's
 * faults: every outcome is typed.
 */

export type StatusQueryDeps = Pick<
  AppContext,
  "db" | "clock" | "metrics" | "callbackIntegrations" | "logger" | "api1Tokens"
> & {
  /** The SSRF-guarded outbound client (app-context.ts). */
  httpOut: GuardedClient;
};

export type QueryTrigger = "schedule" | "expiry" | "manual";

export type QueryResult = {
  outcome: "found" | "not_found" | "failed";
  /** Why it failed (`timeout`, `http_status_502`, `invalid_answer: …`), or a found answer's error type. */
  reason: string | null;
  verdict: CallbackVerdict | null;
  callbackLogId: string | null;
  /** For the schedule: what this result means for it. */
  kind: QueryResultKind;
};

const failedResult = (reason: string, callbackLogId: string | null = null): QueryResult => ({
  outcome: "failed",
  reason,
  verdict: callbackLogId ? "rejected" : null,
  callbackLogId,
  kind: "failed",
});

export async function runStatusQuery(
  deps: StatusQueryDeps,
  t: QueryTarget,
  trigger: QueryTrigger,
  step: number | null,
): Promise<QueryResult> {
  const result = await queryAndRecord(deps, t, trigger, step);
  deps.metrics.statusQueries.inc({ trigger, outcome: result.outcome });
  const log = { orderNo: t.orderNo, depositId: t.depositId, trigger, step, ...result };
  if (result.outcome === "failed") deps.logger.warn(log, "status query failed");
  else deps.logger.info(log, "status query answered");
  return result;
}

async function queryAndRecord(
  deps: StatusQueryDeps,
  t: QueryTarget,
  trigger: QueryTrigger,
  step: number | null,
): Promise<QueryResult> {
  const eventId = newEventId();
  const startedAt = deps.clock.now();
  const event = (r: Omit<QueryResult, "kind">): NewDepositEvent => ({
    tenantId: t.tenantId,
    depositId: t.depositId,
    id: eventId,
    now: startedAt,
    event: {
      kind: "status_query",
      data: {
        trigger,
        step,
        outcome: r.outcome,
        reason: r.reason,
        callbackLogId: r.callbackLogId,
        verdict: r.verdict,
      },
    },
  });
  let token: string;
  try {
    token = deps.api1Tokens.open(t.tokenEnc);
  } catch (err) {
    deps.logger.error({ err, orderNo: t.orderNo }, "status query could not be made");
    const r = failedResult("internal_error");
    await recordQueryEvent(deps.db, event(r));
    return r;
  }
  const body = signStatusQuery({ merchantId: t.merchantId, orderNo: t.orderNo, time: startedAt }, token);
  const res = await deps.httpOut.request({
    url: statusQueryUrl(t.appUrl),
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "crm-pay-token": token },
    body: JSON.stringify(body),
    timeoutMs: t.timeoutMs,
  });
  const answer = interpretStatusResponse(res);
  // A backend that echoes the header must not get the token into the log or the timeline.
  const clean = (text: string) => redactToken(text, token);

  if (answer.kind === "found") {
    const j = await judgeStatusAnswer(deps, clean(answer.dataText), {
      tenantId: t.tenantId,
      depositId: t.depositId,
      integrationId: t.integrationId,
      orderNo: t.orderNo,
      trigger,
      step,
      httpStatus: answer.httpStatus,
    });
    const authentic = !j.refused;
    return {
      outcome: authentic ? "found" : "failed",
      reason: j.errorType === null ? null : authentic ? j.errorType : `invalid_answer: ${j.errorType}`,
      verdict: j.verdict,
      callbackLogId: j.callbackLogId,
      kind: !authentic ? "failed" : j.final ? "final" : "still_open",
    };
  }
  if (answer.kind === "not_found" || answer.bodyText !== null) {
    const notFound = answer.kind === "not_found";
    const reason = notFound ? null : clean(answer.reason);
    const id = await recordUnjudgedAnswer(
      deps.db,
      t,
      {
        errorType: notFound ? ORDER_NOT_FOUND_ERROR : INVALID_ANSWER_ERROR,
        httpStatus: answer.httpStatus ?? 0,
        bodyText: clean(notFound ? answer.bodyText : (answer.bodyText ?? "")),
        now: startedAt,
      },
      (callbackLogId) =>
        event({ outcome: notFound ? "not_found" : "failed", reason, verdict: "rejected", callbackLogId }),
    );
    return notFound
      ? { outcome: "not_found", reason: null, verdict: "rejected", callbackLogId: id, kind: "not_found" }
      : failedResult(reason as string, id);
  }
  const r = failedResult(clean(answer.reason));
  await recordQueryEvent(deps.db, event(r));
  return r;
}

export type QueryNowResult = {
  outcome: QueryResult["outcome"];
  reason: string | null;
  verdict: CallbackVerdict | null;
  /** The deposit's status after the answer was applied. */
  depositStatus: DepositStatus;
};

/**
 * "Check status now": queries one order at once (trigger `manual`), applies the answer as the
 * schedule would, and leaves the schedule where it is. 404 for another tenant's deposit, 409
 * when its integration has API-3 off.
 */
export async function queryStatusNow(
  deps: StatusQueryDeps,
  input: { tenantId: string; depositId: string },
): Promise<QueryNowResult> {
  const t = await findQueryTarget(deps.db, input.tenantId, input.depositId);
  if (!t) throw new NotFoundError("Deposit");
  if (!t.statusQueryEnabled)
    throw new ConflictError("Status queries (API-3) are off for this integration", "status_query_disabled");
  const r = await runStatusQuery(deps, t, "manual", null);
  const after = await findQueryTarget(deps.db, input.tenantId, input.depositId);
  return {
    outcome: r.outcome,
    reason: r.reason,
    verdict: r.verdict,
    depositStatus: after?.status ?? t.status,
  };
}
