import {
  PAYOUT_REQUEST_PATH,
  PAYOUT_STATUS_PATH,
  type PayoutRequestAnswer,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  signPayoutRequest,
  signPayoutStatusQuery,
} from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { decodeJson, writeTransaction } from "../../infra/db/database.js";
import type { GuardedClient } from "../../infra/http-out/guarded-client.js";
import { insertCallbackLog } from "../callbacks/callback-log-repo.js";
import { redactToken } from "../deposits/create-deposit.js";
import { nextStep } from "../status-query/status-query-plan.js";
import { interpretStatusResponse, statusQueryUrl } from "../status-query/status-query-request.js";
import { DEFAULT_STATUS_QUERY_SCHEDULE, dueAt, scheduleOf } from "../status-query/status-query-schedule.js";
import { applyPayoutResult } from "../withdrawals/settle-payout.js";
import { createWithdrawalRepo } from "../withdrawals/withdrawal-repo.js";
import { judgePayoutAnswer } from "./handle-payout-callback.js";
import type { PayoutTarget } from "./payout-repo.js";

/**
 * One step of a payout through an integration (docs/psp-open-api.md#payouts), run by the payout
 * job or by finance's "check now", with no transaction open while the backend is called:
 * - approved: API-4, the payout request. Accepted moves it to paying (the status queries
 *   begin); refused fails it; no usable answer sends API-4 again later (it is idempotent by
 *   `payout_no`).
 * - paying: the payout status query, its answer judged as an API-5 callback.
 * Then the schedule (the integration's status query schedule) moves on with a compare-and-set on
 * the claim's lease; a payout it leaves open is flagged for finance (needs assistance).
 * Never throws for the backend's faults.
 */

export type PayoutDeps = Pick<
  AppContext,
  "db" | "clock" | "metrics" | "callbackIntegrations" | "logger" | "api1Tokens"
> & { httpOut: GuardedClient; random?: () => number };

type StepKind = "final" | "still_open" | "not_found" | "failed";

export async function runPayoutStep(deps: PayoutDeps, t: PayoutTarget, lease: number): Promise<void> {
  const { w } = t;
  const repo = createWithdrawalRepo(deps.db);
  const now = deps.clock.now();
  if (!t.integ?.enabled || !t.method) {
    await flag(deps, t, lease, "integration_unavailable");
    return;
  }
  let token: string;
  try {
    token = deps.api1Tokens.open(t.integ.tokenEnc);
  } catch (err) {
    deps.logger.error({ err, payoutNo: w.payout_no }, "payout step could not open the token");
    await flag(deps, t, lease, "integration_unavailable");
    return;
  }
  const clean = (text: string) => redactToken(text, token);
  const headers = { "content-type": "application/json", accept: "application/json", "crm-pay-token": token };
  const schedule = scheduleFor(t.integ.schedule);

  if (w.status === "approved") {
    const body = signPayoutRequest(
      {
        merchantId: t.integ.merchantId,
        payoutNo: w.payout_no,
        amountMinor: BigInt(w.payout_minor),
        decimals: w.decimals,
        currency: w.currency,
        userId: w.client_id,
        fields: decodeJson<Record<string, string>>(w.fields, {}),
        time: now,
      },
      token,
    );
    const res = await deps.httpOut.request({
      url: statusQueryUrl(t.integ.appUrl, PAYOUT_REQUEST_PATH),
      method: "POST",
      headers,
      body: JSON.stringify(body),
      timeoutMs: t.integ.timeoutMs,
    });
    const answer: PayoutRequestAnswer = !res.ok
      ? {
          kind: "invalid",
          reason: res.reason === "blocked_address" ? `blocked_address: ${res.detail}` : res.reason,
        }
      : res.status < 200 || res.status > 299
        ? { kind: "invalid", reason: `http_status_${res.status}` }
        : parseJson(res.bodyText);
    const latencyMs = res.latencyMs;
    deps.metrics.payoutSteps.inc({ call: "request", outcome: answer.kind });
    if (answer.kind === "accepted") {
      const transactionId = answer.transactionId ?? null;
      await writeTransaction(deps.db, async (trx) => {
        const r = createWithdrawalRepo(trx);
        await r.addEvent(w.tenant_id, w.id, "api4_accepted", { transactionId, latencyMs }, now);
        const first = dueAt(schedule, 0, now, (deps.random ?? Math.random)()) ?? now;
        const outcome = await applyPayoutResult(trx, w, t.method!, {
          to: "paying",
          cause: "api4",
          transactionId,
          firstQueryAt: first,
          now,
        });
        // An API-5 came first (paying or final already): keep the backend's id all the same.
        if (outcome === "repeat" && transactionId)
          await r.setPayout(w.tenant_id, w.id, { transaction_id: transactionId }, { payoutDue: lease }, now);
      });
      return;
    }
    if (answer.kind === "refused") {
      await writeTransaction(deps.db, async (trx) => {
        await createWithdrawalRepo(trx).addEvent(
          w.tenant_id,
          w.id,
          "api4_refused",
          { msg: clean(answer.msg), latencyMs },
          now,
        );
        await applyPayoutResult(trx, w, t.method!, {
          to: "failed",
          cause: "api4",
          reason: "api4_refused",
          now,
        });
      });
      return;
    }
    await repo.addEvent(
      w.tenant_id,
      w.id,
      "api4_failed",
      { reason: clean(answer.reason), latencyMs, step: w.payout_step },
      now,
    );
    await advance(deps, t, lease, schedule, "failed", "api4_unanswered");
    return;
  }

  if (w.status !== "paying") {
    // Paid, failed or rejected since it was claimed: nothing is due any more.
    await repo.setPayout(w.tenant_id, w.id, { payout_due: null }, { payoutDue: lease }, now);
    return;
  }
  const body = signPayoutStatusQuery(
    { merchantId: t.integ.merchantId, payoutNo: w.payout_no, time: now },
    token,
  );
  const res = await deps.httpOut.request({
    url: statusQueryUrl(t.integ.appUrl, PAYOUT_STATUS_PATH),
    method: "POST",
    headers,
    body: JSON.stringify(body),
    timeoutMs: t.integ.timeoutMs,
  });
  const answer = interpretStatusResponse(res, parsePayoutStatusAnswer);
  let kind: StepKind;
  if (answer.kind === "found") {
    const j = await judgePayoutAnswer(deps, clean(answer.dataText), {
      tenantId: w.tenant_id,
      integrationId: w.integration_id as string,
      withdrawalId: w.id,
      payoutNo: w.payout_no,
      httpStatus: answer.httpStatus,
    });
    kind = j.refused ? "failed" : j.final ? "final" : "still_open";
  } else {
    const notFound = answer.kind === "not_found";
    const reason = notFound ? "payout_not_found" : clean(answer.reason);
    const { bodyText } = answer;
    const callbackLogId =
      bodyText === null
        ? null
        : await insertCallbackLog(deps.db, {
            source: "payout_status_query",
            tenant_id: w.tenant_id,
            integration_id: w.integration_id,
            deposit_id: null,
            withdrawal_id: w.id,
            merchant_id: t.integ.merchantId,
            order_no: w.payout_no,
            content_type: "application/json",
            raw_body: clean(bodyText),
            verdict: "rejected",
            error_type: notFound ? "payout_not_found" : "status_answer_invalid",
            error_detail: reason,
            diagnosis: null,
            http_status: answer.httpStatus ?? 0,
            remote_addr: null,
            created_at: now,
          });
    await repo.addEvent(
      w.tenant_id,
      w.id,
      "payout_status_query",
      { outcome: notFound ? "not_found" : "failed", reason, callbackLogId, step: w.payout_step },
      now,
    );
    kind = notFound ? "not_found" : "failed";
  }
  deps.metrics.payoutSteps.inc({ call: "status", outcome: kind });
  await advance(deps, t, lease, schedule, kind, "payout_unresolved");
}

function parseJson(text: string): PayoutRequestAnswer {
  try {
    return parsePayoutRequestAnswer(JSON.parse(text));
  } catch {
    return { kind: "invalid", reason: "invalid_answer: the answer is not JSON" };
  }
}

function scheduleFor(stored: string | null): readonly number[] {
  try {
    return scheduleOf(stored);
  } catch {
    return DEFAULT_STATUS_QUERY_SCHEDULE;
  }
}

/** The schedule moves on (only while the claim still holds its lease): the next step, the end, or finance. */
async function advance(
  deps: PayoutDeps,
  t: PayoutTarget,
  lease: number,
  schedule: readonly number[],
  kind: StepKind,
  why: string,
): Promise<void> {
  const now = deps.clock.now();
  const { w } = t;
  const next = nextStep(schedule, w.payout_step, kind, now, (deps.random ?? Math.random)());
  const repo = createWithdrawalRepo(deps.db);
  if (next.kind === "end")
    await repo.setPayout(w.tenant_id, w.id, { payout_due: null }, { payoutDue: lease }, now);
  else if (next.kind === "next")
    await repo.setPayout(
      w.tenant_id,
      w.id,
      { payout_due: next.dueAt, payout_step: next.step },
      { payoutDue: lease },
      now,
    );
  else await flag(deps, t, lease, why);
}

/** Flags the payout for finance, once, while the claim still holds its lease. */
async function flag(deps: PayoutDeps, t: PayoutTarget, lease: number, why: string): Promise<void> {
  const now = deps.clock.now();
  const { w } = t;
  await writeTransaction(deps.db, async (trx) => {
    const repo = createWithdrawalRepo(trx);
    const flagged = await repo.setPayout(
      w.tenant_id,
      w.id,
      { payout_due: null, needs_assistance: why },
      { payoutDue: lease },
      now,
    );
    if (flagged) await repo.addEvent(w.tenant_id, w.id, "needs_assistance", { why }, now);
  });
  deps.logger.warn({ payoutNo: w.payout_no, withdrawalId: w.id, why }, "payout needs assistance");
}
